"""Load generators for bench/track.py: wrk with a Lua script, or a Python asyncio fallback.

Both send the same requests: `POST /track` bodies made from templates (see `payload_templates`)
in which `__SESSION__`, `__PROFILE__`, `__TIME__` and each `__EID__` are filled per request:

- a returning visitor (most requests) reuses a session id from a fixed pool and sends the
  profile id the server answered for it before (null until it has one), as the tracker does;
- a new visitor (`new_ratio` of the requests) sends a fresh session id and no profile id;
- every event gets a client event id never sent before (UUID4 in Python; in wrk, UUID-shaped
  from a per-run token, the thread and a counter, so that no two runs can repeat one).

Both run at a fixed concurrency (keep-alive connections, reconnecting when the server closes
one) for a fixed duration and report requests, errors and latency percentiles as a dict.
Run as a script (`python bench/loadgen.py CONFIG.json`) it is the Python generator, in a process
of its own so that it competes with the server like any other client would.
"""

import asyncio
import json
import random
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.6478.71 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
]
SCREENS = [(1920, 1080), (2560, 1440), (390, 844), (412, 915), (1366, 768), (820, 1180)]
PAGES = [
    ("/", "Home | Shop"),
    ("/category/shoes", "Shoes | Shop"),
    ("/product/sku-1043", "Trail runner 3 | Shop"),
    ("/product/sku-2210", "Rain jacket | Shop"),
    ("/cart", "Your cart | Shop"),
    ("/blog/how-to-choose-running-shoes", "How to choose running shoes | Blog"),
]
# The event mix of a shopping site: mostly views, some interactions.
EVENT_KINDS = [
    ("page-view", lambda rng: {}),
    ("product-view", lambda rng: {"sku": f"sku-{rng.randint(1000, 9999)}", "price": 89.9}),
    ("scroll-depth", lambda rng: {"percent": rng.choice([25, 50, 75, 100])}),
    ("click", lambda rng: {"element": rng.choice(["nav-menu", "cta-buy", "footer-link"])}),
    ("add-to-cart", lambda rng: {"sku": f"sku-{rng.randint(1000, 9999)}", "quantity": 1}),
    ("search", lambda rng: {"query": rng.choice(["running shoes", "jacket", "socks"])}),
]
TEMPLATE_VARIANTS = 24
SYSTEM_EVENT_TYPES = ("profile-created", "session-opened", "visit-started")


def payload_templates(
    *, source_id: str, events_per_request: int, seed: int = 7
) -> list[tuple[str, str]]:
    """(user agent, body template) pairs shaped like the browser tracker's TrackerPayload."""
    rng = random.Random(seed * 1000 + events_per_request)
    templates = []
    for variant in range(TEMPLATE_VARIANTS):
        user_agent = USER_AGENTS[variant % len(USER_AGENTS)]
        width, height = SCREENS[variant % len(SCREENS)]
        path, title = rng.choice(PAGES)
        campaign = variant % 4 == 0
        url = f"https://shop.example.com{path}" + ("?utm_source=newsletter" if campaign else "")
        context = {
            "time": {"local": "__TIME__", "tz": rng.choice(["Europe/Warsaw", "America/New_York"])},
            "browser": {
                "local": {
                    "browser": {
                        "name": "Netscape",
                        "engine": "Gecko",
                        "appVersion": user_agent[8:],
                        "userAgent": user_agent,
                        "language": rng.choice(["en-US", "pl-PL", "de-DE"]),
                        "onLine": True,
                        "javaEnabled": False,
                        "cookieEnabled": True,
                    },
                    "device": {"platform": "Win32" if "Windows" in user_agent else "Linux"},
                }
            },
            "screen": {
                "local": {
                    "width": width,
                    "height": height,
                    "innerWidth": width,
                    "innerHeight": height - 120,
                    "availWidth": width,
                    "availHeight": height - 40,
                    "colorDepth": 24,
                    "pixelDepth": 24,
                }
            },
        }
        if campaign:
            context["utm"] = {"source": "newsletter", "medium": "email", "campaign": "spring"}
        events = []
        for index in range(events_per_request):
            kind, properties = EVENT_KINDS[0] if index == 0 else rng.choice(EVENT_KINDS)
            events.append(
                {
                    "id": "__EID__",
                    "type": kind,
                    "properties": properties(rng),
                    "options": {},
                    "context": {
                        "page": {
                            "url": url,
                            "path": path,
                            "hash": "",
                            "title": title,
                            "referer": {"host": "www.google.com", "query": None},
                            "history": {"length": rng.randint(1, 6)},
                        }
                    },
                    "time": {"create": "__TIME__"},
                }
            )
        body = {
            "source": {"id": source_id},
            "session": {"id": "__SESSION__"},
            "profile": "__PROFILE__",
            "context": context,
            "properties": {},
            "events": events,
            "options": {},
        }
        text = json.dumps(body, separators=(",", ":")).replace('"__PROFILE__"', "__PROFILE__")
        templates.append((user_agent, text))
    return templates


# ---- wrk -------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Generated by bench/loadgen.py: fills the /track templates per request.
templates = { %(templates)s }
pool_size = %(pool_size)d
new_ratio = %(new_ratio)f
path = "%(path)s"
pool = {}
pool_index = {}
profiles = {}
thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

counter = 0

-- Unique by construction, shaped like a UUID4: this wrk run's token, the thread, a counter.
-- (Seeding math.random from the clock gave two runs the same stream now and then.)
local function unique_id()
  counter = counter + 1
  return string.format("%%s-%%04x-4%%03x-%%04x-%%012x", token, tid,
    math.random(0, 4095), math.random(32768, 49151), counter)
end

function init(args)
  local prefix = args[1]
  token = args[3]
  math.randomseed(tonumber(token, 16) + tid)
  for i = 1, pool_size do
    local sid = string.format("%%s-%%d", prefix, i)
    pool[i] = sid
    pool_index[sid] = true
  end
  -- The profile ids the seeding pass was answered, as the tracker keeps them.
  local known = io.open(args[2], "r")
  if known then
    for line in known:lines() do
      local sid, pid = line:match("^(%%S+)\t(%%S+)$")
      if sid then profiles[sid] = pid end
    end
    known:close()
  end
end

function request()
  local t = templates[math.random(#templates)]
  local sid, prof
  if math.random() < new_ratio then
    sid = unique_id()
    prof = "null"
  else
    sid = pool[math.random(pool_size)]
    local known = profiles[sid]
    if known then prof = '{"id":"' .. known .. '"}' else prof = "null" end
  end
  local now = os.date("!%%Y-%%m-%%dT%%H:%%M:%%S.000Z")
  local body = t[2]:gsub("__SESSION__", sid):gsub("__PROFILE__", prof):gsub("__TIME__", now)
  body = body:gsub("__EID__", unique_id)
  return wrk.format("POST", path,
    {["Content-Type"] = "application/json", ["User-Agent"] = t[1]}, body)
end

function response(status, headers, body)
  if status == 200 then
    local sid = body:match('"session":{"id":"([^"]+)"}')
    if sid and pool_index[sid] then
      local pid = body:match('"profile":{"id":"([^"]+)"}')
      if pid then profiles[sid] = pid end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%%d,"duration_s":%%f,"errors":%%d,"non_200":%%d,' ..
    '"p50_ms":%%f,"p90_ms":%%f,"p99_ms":%%f,"max_ms":%%f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def _lua_long_string(text: str) -> str:
    level = "=" * 4
    if f"]{level}]" in text:
        raise ValueError("template contains the Lua long-string terminator")
    return f"[{level}[{text}]{level}]"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    *,
    url: str,
    templates: list[tuple[str, str]],
    prefix: str,
    concurrency: int,
    duration: float,
    pool_size: int,
    new_ratio: float,
    threads: int,
    profiles_path: Path,
    workdir: Path,
) -> dict:
    entries = ", ".join(
        f"{{{_lua_long_string(agent)}, {_lua_long_string(body)}}}" for agent, body in templates
    )
    script = WRK_SCRIPT % {
        "templates": entries,
        "pool_size": pool_size,
        "new_ratio": new_ratio,
        "path": "/track",
    }
    script_path = workdir / "track.lua"
    script_path.write_text(script)
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={concurrency}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={script_path}",
        url,
        "--",
        prefix,
        str(profiles_path),
        secrets.token_hex(4),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    match = re.search(r"^WRK_RESULT (\{.*\})$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(match.group(1))


# ---- Python asyncio generator ------------------------------------------------------------


def run_python(*, config: dict, workdir: Path) -> dict:
    """Run the asyncio generator in its own process and return its figures.

    config: host, port, templates, prefix, concurrency, duration, pool_size, new_ratio,
    profiles_path, optional `rate` (paced: requests/s over all connections), and `seed`:
    visit every pooled session once (no duration) and write the
    session → profile ids answered to profiles_path.
    """
    config_path = workdir / "loadgen.json"
    config_path.write_text(json.dumps(config))
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(config_path)],
        capture_output=True,
        text=True,
        timeout=config.get("duration", 0) + 300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"loadgen failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def pool_session_ids(prefix: str, pool_size: int) -> list[str]:
    return [f"{prefix}-{index}" for index in range(1, pool_size + 1)]


class Visitors:
    """Which session (and known profile) the next request comes from."""

    def __init__(self, config: dict) -> None:
        self.pool = pool_session_ids(config["prefix"], config["pool_size"])
        self.pool_set = set(self.pool)
        self.profiles: dict[str, str] = {}
        path = Path(config["profiles_path"])
        if path.exists():
            for line in path.read_text().splitlines():
                session_id, _, profile_id = line.partition("\t")
                self.profiles[session_id] = profile_id
        self.new_ratio = config["new_ratio"]
        self.random = random.Random()
        self.seed_queue = list(reversed(self.pool)) if config.get("seed") else None

    def pick(self) -> tuple[str, str] | None:
        if self.seed_queue is not None:
            return (self.seed_queue.pop(), "null") if self.seed_queue else None
        if self.random.random() < self.new_ratio:
            return str(uuid.uuid4()), "null"
        session_id = self.random.choice(self.pool)
        profile_id = self.profiles.get(session_id)
        return session_id, f'{{"id":"{profile_id}"}}' if profile_id else "null"

    def learn(self, answer: bytes) -> None:
        try:
            data = json.loads(answer)
            session_id = data["session"]["id"]
            if session_id in self.pool_set:
                self.profiles[session_id] = data["profile"]["id"]
        except (ValueError, KeyError, TypeError):
            pass


def _build_request(host: str, templates, visitor: tuple[str, str], rng: random.Random) -> bytes:
    user_agent, template = rng.choice(templates)
    session_id, profile = visitor
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    body = (
        template.replace("__SESSION__", session_id)
        .replace("__PROFILE__", profile)
        .replace("__TIME__", now)
    )
    parts = body.split("__EID__")
    body = "".join(
        part + (str(uuid.uuid4()) if index < len(parts) - 1 else "")
        for index, part in enumerate(parts)
    ).encode()
    head = (
        f"POST /track HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(reader, writer, request: bytes) -> tuple[int, bytes, bool]:
    """Send one request, read its answer: (status, body, whether the server closes)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split()[1])
    length = 0
    close = False
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    return status, await reader.readexactly(length), close


async def _connection_loop(
    config: dict, visitors: Visitors, stats: dict, deadline: float, offset: float = 0.0
):
    """Requests one after another on one connection; with `rate` in the config (requests/s over
    all connections), each connection sends on a schedule instead, staggered by `offset` (a
    fraction of its interval), so the rate holds whatever the answers' latency."""
    host, port = config["host"], config["port"]
    templates = config["templates"]
    rng = random.Random()
    reader = writer = None
    interval = config["concurrency"] / config["rate"] if config.get("rate") else 0.0
    next_send = time.perf_counter() + offset * interval
    while time.perf_counter() < deadline:
        if interval:
            delay = next_send - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= deadline:
                break
            next_send += interval
        visitor = visitors.pick()
        if visitor is None:
            break
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            request = _build_request(host, templates, visitor, rng)
            started = time.perf_counter()
            status, answer, close = await _exchange(reader, writer, request)
            stats["latencies"].append(time.perf_counter() - started)
            stats["last_done"] = time.perf_counter()
            if status == 200:
                visitors.learn(answer)
            else:
                stats["non_200"] += 1
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            stats["errors"] += 1
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _run(config: dict) -> dict:
    visitors = Visitors(config)
    stats = {"latencies": [], "errors": 0, "non_200": 0, "last_done": 0.0}
    started = time.perf_counter()
    deadline = started + (3600 if config.get("seed") else config["duration"])
    concurrency = config["concurrency"]
    await asyncio.gather(
        *(
            _connection_loop(config, visitors, stats, deadline, index / concurrency)
            for index in range(concurrency)
        )
    )
    if config.get("seed"):
        lines = [f"{session}\t{profile}" for session, profile in visitors.profiles.items()]
        Path(config["profiles_path"]).write_text("\n".join(lines) + "\n")
    latencies = sorted(stats["latencies"])

    def percentile(fraction: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "duration_s": (stats["last_done"] or time.perf_counter()) - started,
        "errors": stats["errors"],
        "non_200": stats["non_200"],
        "p50_ms": percentile(0.50),
        "p90_ms": percentile(0.90),
        "p99_ms": percentile(0.99),
        "max_ms": percentile(1.0),
    }


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(_run(config))))


if __name__ == "__main__":
    main()
