"""Analytics: Google Analytics 4 Measurement Protocol and the Matomo tracking API.

- GA4 (https://developers.google.com/analytics/devguides/collection/protocol/ga4): POST
  /mp/collect?measurement_id=G-…&api_secret=… with {"client_id", "user_id"?, "events":
  [{"name", "params"}]}; it answers 204 whatever it thinks of the event, so the action can ask
  the validation server (/debug/mp/collect) instead, which answers {"validationMessages":
  [{"fieldPath", "description", "validationCode"}]}.
- Matomo (https://developer.matomo.org/api-reference/tracking-api): form POST /matomo.php with
  idsite, rec=1, url, _id (16 hex characters), uid, e_c/e_a/e_n/e_v for an event, token_auth;
  it answers 204 (send_image=0). Its reporting API answers errors as 200 {"result": "error",
  "message"}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.destinations.connectors.http import VendorCall, vendor_call
from apps.destinations.connectors.types import (
    URL_PATTERN,
    ResourceType,
    credentials_schema,
    secret,
)


def _validation_messages(content: Any) -> str:
    if isinstance(content, dict) and content.get("validationMessages"):
        return "; ".join(
            f"{item.get('fieldPath', '')}: {item.get('description', '')}".strip(": ")
            for item in content["validationMessages"]
        )
    return str(content or "")


def ga4_call(credentials: Mapping[str, Any], body: dict, *, validate: bool) -> VendorCall:
    return VendorCall(
        "POST",
        GA4.url("/debug/mp/collect" if validate else "/mp/collect"),
        params={
            "measurement_id": credentials["measurement_id"],
            "api_secret": credentials["api_secret"],
        },
        json=body,
        error_message=_validation_messages,
        is_error=lambda status, content: bool(
            isinstance(content, dict) and content.get("validationMessages")
        ),
    )


def _check_ga4(credentials: Mapping[str, Any]) -> str:
    body = {"client_id": "cdp-connection-test", "events": [{"name": "cdp_connection_test"}]}
    vendor_call(ga4_call(credentials, body, validate=True), vendor="GA4", credentials=credentials)
    return "the validation server accepted a test event (nothing was recorded)"


GA4 = ResourceType(
    "ga4",
    "Google Analytics 4",
    credentials_schema(
        ["measurement_id", "api_secret"],
        measurement_id={
            "type": "string",
            "pattern": "^G-[A-Z0-9]+$",
            "title": "Measurement id",
            "description": "G-… (Admin → Data streams).",
        },
        api_secret=secret("API secret", "Data stream → Measurement Protocol API secrets."),
    ),
    check=_check_ga4,
    api_url="https://www.google-analytics.com",
)


def _matomo_api_error(status: int, content: Any) -> bool:
    return isinstance(content, dict) and content.get("result") == "error"


def _matomo_message(content: Any) -> str:
    return str(content.get("message", "")) if isinstance(content, dict) else str(content or "")


def matomo_track_call(credentials: Mapping[str, Any], fields: dict) -> VendorCall:
    form = {
        "idsite": str(credentials["site_id"]),
        "rec": "1",
        "apiv": "1",
        "send_image": "0",
        **fields,
    }
    if credentials.get("token_auth"):
        form["token_auth"] = credentials["token_auth"]
    return VendorCall(
        "POST", credentials["url"].rstrip("/") + "/matomo.php", data=form, error_message=str
    )


def _check_matomo(credentials: Mapping[str, Any]) -> str:
    call = VendorCall(
        "POST",
        credentials["url"].rstrip("/") + "/index.php",
        data={
            "module": "API",
            "method": "API.getMatomoVersion",
            "format": "json",
            "token_auth": credentials.get("token_auth", ""),
        },
        error_message=_matomo_message,
        is_error=_matomo_api_error,
    )
    answer = vendor_call(call, vendor="Matomo", credentials=credentials)
    return f"Matomo {answer.content.get('value')} accepted the token"


MATOMO = ResourceType(
    "matomo",
    "Matomo",
    credentials_schema(
        ["url", "site_id"],
        url={
            "type": "string",
            "pattern": URL_PATTERN,
            "title": "Matomo URL",
            "description": "Where Matomo runs, e.g. https://analytics.example.com",
        },
        site_id={"type": "integer", "minimum": 1, "title": "Site id", "description": "idsite"},
        token_auth=secret("Auth token", "Needed to set the visit's time or IP, and to test."),
    ),
    check=_check_matomo,
)
