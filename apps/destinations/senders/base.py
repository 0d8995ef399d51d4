"""The one interface every sender implements, and the outcome it reports."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One delivery in a batch: its rendered payload, changes and own idempotency key."""

    payload: Any
    changes: Sequence[str]
    idempotency_key: str


class BatchSender(Sender, Protocol):
    """A sender that can also carry several deliveries in one message (optional: the
    dispatcher checks for `send_batch`)."""

    def batch_size(self, settings: Mapping[str, Any]) -> int:
        """How many deliveries one message may carry with these settings (1: no batches)."""
        ...

    def send_batch(
        self,
        *,
        items: Sequence[BatchItem],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        """Deliver every item in one message; the outcome is that of each item. Must not
        raise for remote failures."""
        ...


def batch_size_of(sender: Sender, settings: Mapping[str, Any]) -> int:
    size = getattr(sender, "batch_size", None)
    return max(1, size(settings)) if size is not None else 1


def batch_idempotency_key(item_keys: Sequence[str]) -> str:
    """The key of a batch message: the same items in the same order give the same key."""
    digest = hashlib.sha256("\n".join(item_keys).encode()).hexdigest()[:32]
    return f"batch-{digest}"


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"
