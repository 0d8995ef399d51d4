"""Remote HTTP call (requests, always with a timeout)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import requests

from apps import notation
from apps.workflows.actions.base import Action, ConfigError, Result
from apps.workflows.urlguard import AddressRefused, GuardedAdapter, url_check

MAX_TIMEOUT_SECONDS = 60
# Bodies longer than this are cut in the payload (a workflow is no place for downloads).
MAX_CONTENT_CHARS = 100_000

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Keys are UUIDs derived from the names below: fixed length and header-safe whatever
# characters a client put into its event id.
_KEY_NAMESPACE = uuid.UUID("1f6b1c52-3f55-4b86-9a39-4c1d4b8e0f21")

_session: requests.Session | None = None
_guarded_session: requests.Session | None = None


def remote_call_idempotency_key(
    *, event_id: str, workflow_id: str, node_id: str, visit: int = 1
) -> str:
    """The `Idempotency-Key` of a remote call: stable for (event, workflow, node), and for the
    n-th value that reaches the node in one run (a node fed by two branches calls twice)."""
    name = "\x1f".join([event_id, workflow_id, node_id, *([str(visit)] if visit > 1 else [])])
    return str(uuid.uuid5(_KEY_NAMESPACE, name))


def _http(*, guarded: bool) -> requests.Session:
    """One session per process and kind, for keep-alive to the same hosts (created after
    fork); the guarded one connects only where apps.workflows.urlguard allows."""
    global _session, _guarded_session
    if not guarded:
        if _session is None:
            _session = requests.Session()
        return _session
    if _guarded_session is None:
        _guarded_session = requests.Session()
        _guarded_session.mount("http://", GuardedAdapter())
        _guarded_session.mount("https://", GuardedAdapter())
    return _guarded_session


class RemoteCallAction(Action):
    id = "remote_call"
    name = "Remote HTTP call"
    group = "Connectors"
    description = "Calls a URL and puts the response on the payload."
    docs = (
        "`method` (GET, POST, PUT, PATCH, DELETE), `url` (a string template, e.g. "
        "`https://api.example.com/users/{{profile@id}}`), `headers` (an object; values may be "
        "string templates), `body` (an object template sent as JSON; ignored for GET) and "
        "`timeout` in seconds (required, at most 60). A templated URL may not lead to a "
        "loopback, private, link-local or other non-public address unless the setting "
        "CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS lists it (the call goes to `error`); a URL "
        "written out in full is called as it is.\n\n"
        "A 2xx/3xx answer goes to the `response` port, anything else (4xx, 5xx, timeout, "
        'connection refused) to `error`, both with `{"status": <code or null>, "content": '
        '<JSON or text>, "headers": {...}, "error": <message or null>}`.\n\n'
        "The call can be made twice. It runs inside the event's processing, and when a "
        "worker dies (or the database fails) before that commits, the event is processed "
        "again and the call is repeated. So every call carries an `Idempotency-Key` header: "
        "the same for the same event, workflow and node (on a redelivery, a replay of the "
        "event or a test run on it too), different for another node or for the second value "
        "that reaches this node in one run; a remote that honours the key does the work "
        "once. A header of that name in `headers` replaces it. This is the only node that "
        "can repeat: every other one (inject event, merge profiles, writes to the profile) "
        "works in the processing's transaction, which commits once or not at all."
    )
    outputs = ("response", "error")
    config_schema = {
        "type": "object",
        "required": ["url", "timeout"],
        "properties": {
            "method": {
                "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                "default": "POST",
                "title": "Method",
                "description": "The HTTP method.",
            },
            "url": {
                "type": "string",
                "minLength": 1,
                "title": "URL",
                "description": "An http(s) URL; may hold {{source@path}} placeholders.",
                "x-notation": "template",
            },
            "headers": {
                "type": "object",
                "default": {},
                "title": "Headers",
                "description": "Header name and value.",
                "x-key-title": "Header",
                "additionalProperties": {
                    "type": "string",
                    "title": "Value",
                    "description": "May hold {{source@path}} placeholders.",
                    "x-notation": "template",
                },
            },
            "body": {
                "type": ["object", "array", "null"],
                "default": None,
                "title": "Body",
                "description": "A JSON object template (text leaves are dot paths or "
                "literals); not sent with GET.",
                "x-form": "object-template",
            },
            "timeout": {
                "type": "number",
                "default": 10,
                "exclusiveMinimum": 0,
                "maximum": 60,
                "title": "Timeout (seconds)",
                "description": "How long to wait for the answer, at most 60.",
            },
        },
    }

    def setup(self) -> None:
        url = self.config["url"]
        if "{{" not in url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"url: {url!r} is not an http(s) URL")

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        url = notation.render_string(self.config["url"], data, default="")
        # A URL written by event data could point anywhere, the CDP's own network included;
        # one the marketer wrote out in full goes where it says.
        templated = "{{" in self.config["url"]
        if templated:
            try:
                url_check(url)
            except AddressRefused as refused:
                return Result("error", _answer(None, None, {}, f"AddressRefused: {refused}"))
        headers = {
            name: notation.render_string(value, data, default="")
            for name, value in self.config["headers"].items()
        }
        if IDEMPOTENCY_HEADER.lower() not in {name.lower() for name in headers}:
            headers[IDEMPOTENCY_HEADER] = remote_call_idempotency_key(
                event_id=str(flow.event.get("id") or ""),
                workflow_id=str(flow.workflow.get("id") or ""),
                node_id=flow.node_id,
                visit=flow.node_visit,
            )
        method = self.config["method"]
        body = None
        if method != "GET" and self.config["body"] is not None:
            body = notation.render_template(self.config["body"], data)
            if "content-type" not in {name.lower() for name in headers}:
                headers["Content-Type"] = "application/json"
        try:
            response = _http(guarded=templated).request(
                method,
                url,
                headers=headers,
                data=None if body is None else json.dumps(body, default=str),
                # In the request, the wait ends with the time budget (the engine then
                # records the run as timed out and the worker calls again).
                timeout=flow.remaining(self.config["timeout"]),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return Result("error", _answer(None, None, {}, f"{type(exc).__name__}: {exc}"))
        answer = _answer(response.status_code, _content(response), dict(response.headers), None)
        return Result("response" if response.status_code < 400 else "error", answer)


def _content(response: requests.Response) -> Any:
    text = response.text[:MAX_CONTENT_CHARS]
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            return text
    return text


def _answer(status: int | None, content: Any, headers: dict, error: str | None) -> dict:
    return {"status": status, "content": content, "headers": headers, "error": error}
