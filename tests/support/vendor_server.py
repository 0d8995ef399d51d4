"""A real local HTTP server that speaks a vendor's API for connector tests: `vendor_server`.

Each test scripts the answers per (method, path) — the vendor's documented success, error and
429 bodies — and reads back every request exactly as it arrived (method, path, query, headers,
raw body, parsed JSON or form). A route answers its replies in order, the last one repeating;
an unscripted request answers 404 {"message": "no route"} so a wrong path fails loudly.

    vendor = vendor_server()
    vendor.route("POST", "/api/chat.postMessage", Answer(200, {"ok": True, "ts": "1.2"}))
    ... run the action with CDP_CONNECTOR_API_URLS = {"slack": vendor.url + "/api"} ...
    [request] = vendor.requests
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None  # a dict or list is sent as JSON, a str as text, None as no body
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VendorRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class VendorServer:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[Answer]] = {}
        self._lock = threading.Lock()
        self.requests: list[VendorRequest] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = VendorRequest(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers=dict(self.headers),
                    body=body,
                )
                answer = owner._answer_for(request)
                if isinstance(answer.body, dict | list):
                    payload, kind = json.dumps(answer.body).encode(), "application/json"
                elif isinstance(answer.body, str):
                    payload, kind = answer.body.encode(), "text/plain; charset=utf-8"
                else:
                    payload, kind = b"", None
                self.send_response(answer.status)
                if kind:
                    self.send_header("Content-Type", kind)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, method: str, path: str, *answers: Answer) -> VendorServer:
        with self._lock:
            self._routes[(method, path)] = list(answers) or [Answer()]
        return self

    def _answer_for(self, request: VendorRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            answers = self._routes.get((request.method, request.path))
            if not answers:
                return Answer(404, {"message": "no route"})
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vendor_server():
    started: list[VendorServer] = []

    def start() -> VendorServer:
        server = VendorServer()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
