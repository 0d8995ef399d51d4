"""Workflow memory: values that workflows keep in Redis across runs (Tracardi's "Write to
memory" / "Read from memory" and the payload collector), under keys of their own
(`cdp:memory:<key>`), stored as JSON.

Redis is not the source of truth here, and a run must not hang on it: the client has short
timeouts and no retries, and every failure comes back as MemoryUnavailable with the reason,
which the actions put on their error port.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import orjson
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

KEY_PREFIX = "cdp:memory:"
# A node waits at most this long for Redis (connect, then each reply).
TIMEOUT_SECONDS = 1.0
# The longest a value may live, and a collection waiting for its next payload.
MAX_TTL_SECONDS = 30 * 24 * 3600
COLLECTION_IDLE_SECONDS = 24 * 3600

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()

# Adds a payload to a collection and, when it is full or its time span has passed, takes the
# whole collection out, atomically (two runs never release the same payloads).
# KEYS: list, start time. ARGV: item, count (0: none), span seconds (0: none), now, idle ttl.
_COLLECT = """
redis.call('RPUSH', KEYS[1], ARGV[1])
local size = redis.call('LLEN', KEYS[1])
local started = redis.call('GET', KEYS[2])
if not started then
  started = ARGV[4]
  redis.call('SET', KEYS[2], started)
end
local count, span = tonumber(ARGV[2]), tonumber(ARGV[3])
local full = count > 0 and size >= count
local over = span > 0 and tonumber(ARGV[4]) - tonumber(started) >= span
if full or over then
  local items = redis.call('LRANGE', KEYS[1], 0, -1)
  redis.call('DEL', KEYS[1], KEYS[2])
  return items
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return false
"""


class MemoryUnavailable(Exception):
    """Redis did not answer (down, refused, timed out); the message says what happened."""


class ValueTooLarge(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Collected:
    released: list[Any] | None  # the payloads, oldest first, when this one released them


def memory_key(key: str) -> str:
    return KEY_PREFIX + key


def memory_write(*, key: str, value: Any, ttl_seconds: int) -> None:
    encoded = _encode(value)
    _call(lambda client: client.set(memory_key(key), encoded, ex=ttl_seconds))


def memory_read(*, key: str) -> tuple[bool, Any]:
    """(found, value)."""
    raw = _call(lambda client: client.get(memory_key(key)))
    if raw is None:
        return False, None
    return True, orjson.loads(raw)


def memory_collect(*, key: str, item: Any, count: int, span_seconds: int, now: float) -> Collected:
    """Add `item` to the collection under `key`; release the collection when it holds `count`
    items or `span_seconds` have passed since its first item (0: no such limit)."""
    encoded = _encode(item)
    idle = max(COLLECTION_IDLE_SECONDS, 2 * span_seconds)
    keys = [memory_key(f"collect:{key}"), memory_key(f"collect:{key}:started")]
    args = [encoded, count, span_seconds, f"{now:.6f}", idle]
    items = _call(lambda client: client.eval(_COLLECT, 2, *keys, *args))
    if not items:
        return Collected(released=None)
    return Collected(released=[orjson.loads(raw) for raw in items])


def _encode(value: Any) -> bytes:
    encoded = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    limit = settings.CDP_MEMORY_MAX_VALUE_BYTES
    if len(encoded) > limit:
        raise ValueTooLarge(
            f"the value is {len(encoded):,} bytes of JSON; memory keeps at most {limit:,} "
            "(CDP_MEMORY_MAX_VALUE_BYTES)"
        )
    return encoded


def _call(operation) -> Any:
    client = _client(settings.CDP_MEMORY_REDIS_URL)
    try:
        return operation(client)
    except redis.RedisError as exc:
        raise MemoryUnavailable(f"Redis did not answer ({type(exc).__name__}: {exc})") from exc


def _client(url: str) -> redis.Redis:
    """One client per Redis URL and process (the URL is a setting tests change)."""
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=TIMEOUT_SECONDS,
                    socket_connect_timeout=TIMEOUT_SECONDS,
                    # No retries: redis-py's default retries made each call wait seconds for a
                    # Redis that refuses connections (apps.core.ratelimit found the same).
                    retry=Retry(NoBackoff(), 0),
                )
                _clients[url] = client
    return client
