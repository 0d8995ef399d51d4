"""The one interface every sender implements, and the outcome it reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

EXCERPT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened on the wire. `retryable` says whether the failure can pass by itself
    (network error, 5xx, 429); `retry_after` is the remote's own hint in seconds, if any."""

    ok: bool
    status_code: int | None = None
    response_excerpt: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None


class Sender(Protocol):
    # JSON schemas for Destination.settings and Resource.credentials of this resource type.
    settings_schema: ClassVar[dict]
    credentials_schema: ClassVar[dict]

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
        """Deliver `payload` (the rendered mapping). `context` is the notation data it was
        rendered from plus {"payload": payload}, for senders with string templates.
        `idempotency_key` is the same when the same attempt is sent again after a lost worker.
        Must not raise for remote failures: they are reported in the SendResult."""
        ...


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
