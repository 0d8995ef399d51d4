"""A real local HTTP server for workflow tests (remote HTTP call, slow nodes)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingServer:
    """Answers every request with `status` and a JSON body after `delay` seconds, records each
    request (method, path, headers, JSON body, start and end time) and the most requests it
    was ever handling at once. `hold_first=True` keeps the first request waiting until
    `release()` (a node that is still running when its worker is killed)."""

    def __init__(self, *, status: int = 200, body=None, delay: float = 0.0, hold_first=False):
        self.status = status
        self.body = {"ok": True} if body is None else body
        self.delay = delay
        self.hold_first = hold_first
        self.requests: list[dict] = []
        self.first_arrived = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> RecordingServer:
        self.thread.start()
        return self

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                started = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner._in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner._in_flight)
                    first = not owner.requests
                    record = {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(raw) if raw else None,
                        "started": started,
                    }
                    owner.requests.append(record)
                try:
                    if first and owner.hold_first:
                        owner.first_arrived.set()
                        owner._release.wait(30)
                    elif owner.delay:
                        time.sleep(owner.delay)
                    payload = json.dumps(owner.body).encode()
                    self.send_response(owner.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client (a killed worker) is gone
                finally:
                    with owner._lock:
                        owner._in_flight -= 1
                        record["ended"] = time.time()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return Handler
