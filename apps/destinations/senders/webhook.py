"""HTTP webhook: `{"data": <mapped>, "changes": [...]}` as JSON, or as query parameters for GET.

With `batch_size` > 1 in the destination's settings (POST, PUT or PATCH), one request carries up
to that many deliveries: `{"items": [{"data": ..., "changes": [...], "idempotency_key": ...},
...]}`, each item with its delivery's own key (a receiver drops the items it has seen), the
request's `Idempotency-Key` a digest of them. A 2xx settles every item; a failure retries each.
Deletion requests (forwarded erasures) travel as items too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from apps.destinations.connectors.http import retry_after_seconds
from apps.destinations.senders.base import BatchItem, SendResult, excerpt

MAX_TIMEOUT_SECONDS = 30
DEFAULT_TIMEOUT_SECONDS = 10
MAX_BATCH_SIZE = 500
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

_session: tuple[int, requests.Session] | None = None


def _http() -> requests.Session:
    """One keep-alive session per process (a Celery prefork child must not share its parent's
    sockets, hence the pid check)."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), requests.Session())
    return _session[1]


def flatten_query(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """{"data": {"a": {"b": 1}, "tags": ["x", "y"]}} -> [("data.a.b", "1"), ("data.tags", "x"),
    ("data.tags", "y")]: nested keys joined with dots, list items as repeated keys."""
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs.extend(flatten_query(item, f"{prefix}.{key}" if prefix else str(key)))
        return pairs
    if isinstance(value, list | tuple):
        return [pair for item in value for pair in flatten_query(item, prefix)]
    if value is None:
        return [(prefix, "")]
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, str(value))]


class WebhookSender:
    """Sends `{"data": <the mapping>, "changes": [...]}` as JSON to a URL (or as query
    parameters for GET), with an `Idempotency-Key` header; 2xx is sent, 429 and 5xx are
    retried (honouring `Retry-After`), other 4xx fail at once. With `batch_size`, one request
    carries several deliveries as `{"items": [...]}`."""

    settings_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^https?://[^\\s]+$",
                "description": "Where the request goes (http or https).",
                "examples": ["https://crm.example.com/hooks/cdp"],
            },
            "method": {
                "enum": ["POST", "PUT", "PATCH", "GET"],
                "default": "POST",
                "description": "GET sends the mapping as query parameters.",
            },
            "headers": {
                **_STRING_MAP,
                "description": "Headers sent with every request (not secret; secret ones "
                "belong in the resource's credentials).",
                "examples": [{"X-Source": "cdp"}],
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
                "description": f"Seconds to wait for the answer (at most {MAX_TIMEOUT_SECONDS}).",
            },
            "batch_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_BATCH_SIZE,
                "default": 1,
                "description": "Deliveries per request (POST, PUT, PATCH; up to "
                f"{MAX_BATCH_SIZE}).",
                "examples": [100],
            },
        },
        "additionalProperties": False,
    }
    credentials_schema: ClassVar[dict] = {
        "type": "object",
        "properties": {
            "headers": {
                **_STRING_MAP,
                "description": "Secret headers, e.g. an API token.",
                "examples": [{"Authorization": "Bearer <token>"}],
            },
            "basic_auth": {
                "type": "object",
                "required": ["username", "password"],
                "description": "HTTP basic authentication.",
                "properties": {
                    "username": {
                        "type": "string",
                        "description": "The user name.",
                        "examples": ["cdp"],
                    },
                    "password": {
                        "type": "string",
                        "description": "The password.",
                        "examples": ["<password>"],
                    },
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }

    def batch_size(self, settings: Mapping[str, Any]) -> int:
        if settings.get("method", "POST") == "GET":
            return 1
        return int(settings.get("batch_size", 1))

    def send_batch(
        self,
        *,
        items: Sequence[BatchItem],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        body = {
            "items": [
                {
                    "data": item.payload,
                    "changes": list(item.changes),
                    "idempotency_key": item.idempotency_key,
                }
                for item in items
            ]
        }
        return self._request(
            body, settings=settings, credentials=credentials, idempotency_key=idempotency_key
        )

    def send(
        self,
        *,
        payload: Any,
        changes: Sequence[str],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        context: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        body = {"data": payload, "changes": list(changes)}
        return self._request(
            body, settings=settings, credentials=credentials, idempotency_key=idempotency_key
        )

    def _request(
        self,
        body: dict,
        *,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        method = settings.get("method", "POST")
        headers = {
            **settings.get("headers", {}),
            **credentials.get("headers", {}),
            "Idempotency-Key": idempotency_key,
        }
        basic = credentials.get("basic_auth")
        request: dict[str, Any] = {
            "headers": headers,
            "timeout": settings.get("timeout", DEFAULT_TIMEOUT_SECONDS),
            "auth": (basic["username"], basic["password"]) if basic else None,
            # A redirect would turn a POST into a GET somewhere else; report it instead.
            "allow_redirects": False,
        }
        if method == "GET":
            request["params"] = flatten_query(body)
        else:
            request["json"] = body
        try:
            response = _http().request(method, settings["url"], **request)
        except requests.Timeout:
            return SendResult(ok=False, error="Timed out waiting for the webhook", retryable=True)
        except requests.RequestException as error:
            return SendResult(ok=False, error=f"Network error: {error}", retryable=True)
        code = response.status_code
        text = excerpt(response.text)
        if 200 <= code < 300:
            return SendResult(ok=True, status_code=code, response_excerpt=text)
        retryable = code == 429 or code >= 500
        return SendResult(
            ok=False,
            status_code=code,
            response_excerpt=text,
            error=f"HTTP {code} {response.reason or ''}".strip(),
            retryable=retryable,
            retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            if retryable
            else None,
        )
