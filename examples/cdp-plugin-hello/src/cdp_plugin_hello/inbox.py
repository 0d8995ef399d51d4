"""Hello inbox: a destination that posts each delivery as a message into a folder.

The Hello inbox API (README.md): `POST {url}/v1/folders/{folder}/messages` with
`Authorization: Bearer <token>` and `Idempotency-Key`, body `{"message": <payload>,
"changes": [...]}`; 201 `{"id": "..."}` when stored. 429 and 5xx may pass; other errors do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from apps.destinations.senders.base import SendResult, excerpt

TIMEOUT_SECONDS = 10


class InboxResourceType:
    """What a Hello inbox resource holds: the API token (write-only in the admin)."""

    id = "hello_inbox"
    name = "Hello inbox"
    credentials_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string", "minLength": 1, "title": "API token"}},
        "additionalProperties": False,
    }


class InboxSender:
    """Delivers to a Hello inbox resource; the destination names the server and the folder."""

    resource_type = "hello_inbox"
    settings_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["url", "folder"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^https?://[^\\s]+$",
                "title": "Inbox server",
                "description": "e.g. https://inbox.example.com",
            },
            "folder": {
                "type": "string",
                "pattern": "^[a-z0-9-]{1,40}$",
                "title": "Folder",
                "description": "Lower-case letters, digits and -, e.g. new-customers",
            },
        },
        "additionalProperties": False,
    }

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
        url = f"{settings['url'].rstrip('/')}/v1/folders/{quote(settings['folder'])}/messages"
        try:
            response = requests.post(
                url,
                json={"message": payload, "changes": list(changes)},
                headers={
                    "Authorization": f"Bearer {credentials.get('token', '')}",
                    "Idempotency-Key": idempotency_key,
                },
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            return SendResult(ok=False, error=f"{type(error).__name__}: {error}", retryable=True)
        ok = 200 <= response.status_code < 300
        return SendResult(
            ok=ok,
            status_code=response.status_code,
            response_excerpt=excerpt(response.text),
            error="" if ok else f"HTTP {response.status_code}",
            retryable=response.status_code == 429 or response.status_code >= 500,
        )
