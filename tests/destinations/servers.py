"""Real local servers that destinations send to in tests: a scripted HTTP server and an SMTP
server (aiosmtpd), each on a free port of 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hanging remote)
    echo_headers: bool = False  # answer the request's headers as a JSON object (after `body`)


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time()

    def json(self):
        return json.loads(self.body)


class ScriptedHTTPServer:
    """Answers requests with the scripted replies in order (the last one repeats) and records
    every request. A request is recorded when it arrives, before any scripted delay."""

    def __init__(self, script: list[Reply | int] | None = None) -> None:
        self._script = [r if isinstance(r, Reply) else Reply(status=r) for r in script or [200]]
        self._lock = threading.Lock()
        self.requests: list[ReceivedRequest] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                reply = server._record(
                    ReceivedRequest(
                        method=self.command,
                        path=parts.path,
                        query=parse_qsl(parts.query, keep_blank_values=True),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        received_at=time.time(),
                    )
                )
                if reply.delay:
                    time.sleep(reply.delay)
                body_text = reply.body
                if reply.echo_headers:
                    body_text += json.dumps(dict(self.headers.items()))
                payload = body_text.encode()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = _handle

            def log_message(self, format, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # stop() must not wait for a scripted hang to end
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._lock:
            index = len(self.requests)
            self.requests.append(request)
            return self._script[min(index, len(self._script) - 1)]

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> ScriptedHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingSmtpHandler:
    def __init__(self, *, reject_with: str | None = None) -> None:
        self.messages: list = []
        self.reject_with = reject_with

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.reject_with:
            return self.reject_with
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def start_smtp_server(handler: RecordingSmtpHandler) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller
