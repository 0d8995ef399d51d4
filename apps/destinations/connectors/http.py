"""The HTTP client every connector calls vendors through (requests, one keep-alive session per
process).

What it guarantees, so that each vendor module only states its endpoint, auth and body:
- a timeout on every call (the caller's, capped by the workflow's time budget);
- a vendor's error answer becomes a `VendorError` whose message is the vendor's own (each vendor
  module says where its message is: `{"error": ...}`, `{"message": ...}`...);
- 429 (or a vendor's own "slow down" answer) with `Retry-After`: when the wait is at most
  CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS and fits in the time left, the client waits that long and
  calls once more; otherwise (or when the second call is refused too) a VendorError says how
  long the vendor asked to wait, so the run log tells the marketer when to try again;
- no credential leaves it: error messages and answers are redacted with every form of every
  secret of the resource (apps.destinations.redaction), so nothing a vendor echoes, and no URL
  that carries a token (Telegram's), reaches a run log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings

from apps.destinations.redaction import mask, secret_forms

DEFAULT_TIMEOUT_SECONDS = 10.0
# Answers are cut in what the action puts on its port (a workflow is no place for downloads).
MAX_CONTENT_CHARS = 100_000

_session: tuple[int, requests.Session] | None = None


def _http() -> requests.Session:
    """One session per process (a Celery prefork child must not share its parent's sockets)."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), requests.Session())
    return _session[1]


def retry_after_seconds(header: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not header:
        return None
    header = header.strip()
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class VendorError(Exception):
    """A vendor refused the call or could not be reached; the message says why, in the
    vendor's words where it gave any."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        content: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.content = content
        # The wait the vendor asked for on a rate limit, in seconds (None: not said).
        self.retry_after = retry_after

    @property
    def can_pass(self) -> bool:
        """Whether trying again later may succeed: no answer, a 5xx, or a rate limit (a 4xx
        refusal will be refused again)."""
        if self.retry_after is not None or self.status is None:
            return True
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True, slots=True)
class VendorAnswer:
    status: int
    content: Any  # parsed JSON, or the text


def _no_message(content: Any) -> str:
    return ""


@dataclass(frozen=True)
class VendorCall:
    """One request to a vendor. `error_message` picks the vendor's message out of an error
    answer; `is_error` flags answers that are errors despite a 2xx (Slack's {"ok": false});
    `retry_after` reads the wait from a body when the vendor puts it there (Telegram)."""

    method: str
    url: str
    headers: Mapping[str, str] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    params: Mapping[str, Any] | None = None
    auth: tuple[str, str] | None = None
    error_message: Callable[[Any], str] = _no_message
    is_error: Callable[[int, Any], bool] | None = None
    retry_after: Callable[[Any], float | None] | None = None


def max_retry_wait() -> float:
    return float(settings.CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS)


def vendor_call(
    call: VendorCall,
    *,
    vendor: str,
    credentials: Any,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    remaining: Callable[[float], float] | None = None,
    wait_on_rate_limit: bool = True,
) -> VendorAnswer:
    """Make `call`; the answer (redacted) or VendorError (redacted). `remaining(wanted)` caps a
    wait at the time the run has left (Flow.remaining). Without `wait_on_rate_limit` a rate
    limit is raised at once with the wait asked (a destination's delivery is retried later by
    the dispatcher rather than holding a worker)."""
    forms = secret_forms(credentials)
    budget = remaining or (lambda wanted: wanted)
    try:
        answer = _once(call, vendor=vendor, timeout=budget(timeout))
        if answer.status == 429 or _rate_limited(call, answer):
            wait = _wait_asked(call, answer)
            if (
                not wait_on_rate_limit
                or wait is None
                or wait > max_retry_wait()
                or budget(wait + timeout) < wait + timeout
            ):
                raise VendorError(
                    _rate_message(vendor, call, answer, wait),
                    status=answer.status,
                    content=answer.content,
                    retry_after=wait,
                )
            time.sleep(wait)
            answer = _once(call, vendor=vendor, timeout=budget(timeout))
            if answer.status == 429 or _rate_limited(call, answer):
                again = _wait_asked(call, answer)
                raise VendorError(
                    _rate_message(vendor, call, answer, again) + " (after one retry)",
                    status=answer.status,
                    content=answer.content,
                    retry_after=again,
                )
        if answer.status >= 400 or (call.is_error and call.is_error(answer.status, answer.content)):
            detail = call.error_message(answer.content) or _text(answer.content)
            raise VendorError(
                f"{vendor} answered {answer.status}: {detail}".rstrip(": "),
                status=answer.status,
                content=answer.content,
            )
    except VendorError as error:
        raise VendorError(
            mask(error.message, forms),
            status=error.status,
            content=redacted(error.content, forms),
            retry_after=error.retry_after,
        ) from None
    return VendorAnswer(answer.status, redacted(answer.content, forms))


class _Raw:
    __slots__ = ("status", "content", "headers")

    def __init__(self, status: int, content: Any, headers: Mapping[str, str]) -> None:
        self.status, self.content, self.headers = status, content, headers


def _once(call: VendorCall, *, vendor: str, timeout: float) -> _Raw:
    try:
        response = _http().request(
            call.method,
            call.url,
            headers=dict(call.headers or {}),
            json=call.json,
            data=call.data,
            params=call.params,
            auth=call.auth,
            timeout=timeout,
            # A redirect would turn a POST into a GET somewhere else; report it instead.
            allow_redirects=False,
        )
    except requests.Timeout:
        raise VendorError(f"{vendor} did not answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise VendorError(f"{vendor} could not be reached: {type(error).__name__}") from None
    return _Raw(response.status_code, _content(response), response.headers)


def _content(response: requests.Response) -> Any:
    text = response.text[:MAX_CONTENT_CHARS]
    if not text:
        return None
    try:
        return response.json()
    except ValueError:
        return text


def _rate_limited(call: VendorCall, answer: _Raw) -> bool:
    return call.retry_after is not None and call.retry_after(answer.content) is not None


def _wait_asked(call: VendorCall, answer: _Raw) -> float | None:
    wait = retry_after_seconds(answer.headers.get("Retry-After"))
    if wait is None and call.retry_after is not None:
        wait = call.retry_after(answer.content)
    return wait


def _rate_message(vendor: str, call: VendorCall, answer: _Raw, wait: float | None) -> str:
    detail = call.error_message(answer.content)
    asked = f"retry after {wait:g} s" if wait is not None else "no Retry-After given"
    message = f"{vendor} rate limit ({answer.status}): {asked}"
    return f"{message}; {detail}" if detail else message


def _text(content: Any) -> str:
    if content is None:
        return ""
    text = content if isinstance(content, str) else str(content)
    return text[:500]


def redacted(value: Any, forms: list[str]) -> Any:
    """`value` with every secret form masked in each string (keys too)."""
    if not forms:
        return value
    if isinstance(value, str):
        return mask(value, forms)
    if isinstance(value, dict):
        return {redacted(key, forms): redacted(item, forms) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item, forms) for item in value]
    return value
