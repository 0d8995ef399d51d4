"""MeaningCloud's text analytics APIs (https://www.meaningcloud.com/developer/documentation).

Every API takes a form POST with the licence key in the `key` field and answers 200 with a
`status` block: {"code": "0", "msg": "OK", "credits": "1", "remaining_credits": "..."} on
success; any other code is a refusal in the vendor's words, e.g. 100 "Operation denied" (a
wrong key), 102 "Credits per subscription exceeded", 104 "Request rate limit exceeded", 200
"Missing required parameter(s)", 212 "No content to analyze", 214 "Unsupported language".

- Sentiment analysis 2.1: POST /sentiment-2.1 (key, txt, lang) -> score_tag (P+, P, NEU, N,
  N+, NONE), agreement, subjectivity, confidence ("0".."100"), irony.
- Text classification 2.0: POST /class-2.0 (key, txt, model e.g. IPTC_en) -> category_list
  [{"code", "label", "abs_relevance", "relevance"}].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.destinations.connectors.http import VendorCall, vendor_call
from apps.destinations.connectors.types import ResourceType, credentials_schema, secret

SUCCESS_CODE = "0"
RATE_LIMIT_CODE = "104"
# The rate limit is per second (the plan's requests per second); the answer gives no wait.
RATE_LIMIT_WAIT_SECONDS = 1.0


def _status(content: Any) -> dict:
    if isinstance(content, dict) and isinstance(content.get("status"), dict):
        return content["status"]
    return {}


def _message(content: Any) -> str:
    status = _status(content)
    if status:
        return f"{status.get('msg') or 'no message'} (code {status.get('code')})"
    return str(content or "")


def _refused(status: int, content: Any) -> bool:
    return str(_status(content).get("code", SUCCESS_CODE)) != SUCCESS_CODE


def _rate_limit_wait(content: Any) -> float | None:
    if str(_status(content).get("code")) == RATE_LIMIT_CODE:
        return RATE_LIMIT_WAIT_SECONDS
    return None


def meaningcloud_call(credentials: Mapping[str, Any], api: str, fields: dict) -> VendorCall:
    """A form POST to one of MeaningCloud's APIs, e.g. api="sentiment-2.1"."""
    return VendorCall(
        "POST",
        MEANINGCLOUD.url(f"/{api}"),
        data={"key": credentials["key"], **fields},
        error_message=_message,
        is_error=_refused,
        retry_after=_rate_limit_wait,
    )


def _check_meaningcloud(credentials: Mapping[str, Any]) -> str:
    # MeaningCloud has no free "who am I" call: one sentiment call of one word (one credit).
    answer = vendor_call(
        meaningcloud_call(credentials, "sentiment-2.1", {"txt": "Good", "lang": "en"}),
        vendor="MeaningCloud",
        credentials=credentials,
    )
    left = _status(answer.content).get("remaining_credits")
    return f"MeaningCloud accepted the key ({left} credits left)"


MEANINGCLOUD = ResourceType(
    "meaningcloud",
    "MeaningCloud",
    credentials_schema(
        ["key"],
        key=secret("License key", "From MeaningCloud's developer console (Licenses)."),
    ),
    check=_check_meaningcloud,
    api_url="https://api.meaningcloud.com",
)
