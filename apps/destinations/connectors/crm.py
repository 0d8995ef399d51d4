"""Marketing automation CRMs on their own servers: Mautic and ActiveCampaign.

- Mautic REST API (https://developer.mautic.org/#rest-api), basic auth (enable "API" and "HTTP
  basic auth" in its configuration): POST /api/contacts/new (an existing e-mail updates that
  contact), POST /api/segments/{id}/contact/{contactId}/add|remove, POST
  /api/contacts/{id}/points/plus|minus/{n}; errors {"errors": [{"code", "message"}]}.
- ActiveCampaign v3 (https://developers.activecampaign.com/reference/sync-a-contacts-data):
  `Api-Token` header, POST /api/3/contact/sync {"contact": {...}} creates or updates by e-mail;
  errors {"errors": [{"title", "detail", "code"}]}.
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


def _errors(key: str):
    def message(content: Any) -> str:
        if isinstance(content, dict) and isinstance(content.get("errors"), list):
            return "; ".join(
                str(item.get(key) or item) if isinstance(item, dict) else str(item)
                for item in content["errors"]
            )
        return str(content or "")

    return message


def _base(credentials: Mapping[str, Any]) -> str:
    return credentials["url"].rstrip("/")


def mautic_call(credentials: Mapping[str, Any], method: str, path: str, body=None) -> VendorCall:
    return VendorCall(
        method,
        _base(credentials) + path,
        auth=(credentials["username"], credentials["password"]),
        json=body,
        error_message=_errors("message"),
    )


def _check_mautic(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        mautic_call(credentials, "GET", "/api/contacts?limit=1"),
        vendor="Mautic",
        credentials=credentials,
    )
    return f"Mautic accepted the login ({answer.content.get('total', 0)} contacts)"


MAUTIC = ResourceType(
    "mautic",
    "Mautic",
    credentials_schema(
        ["url", "username", "password"],
        url={
            "type": "string",
            "pattern": URL_PATTERN,
            "title": "Mautic URL",
            "description": "e.g. https://mautic.example.com",
        },
        username={
            "type": "string",
            "minLength": 1,
            "title": "User",
            "description": "The Mautic user's login.",
            "examples": ["cdp"],
        },
        password=secret(
            "Password",
            "A Mautic user allowed to edit contacts and segments.",
            example="<password>",
        ),
    ),
    check=_check_mautic,
)


def activecampaign_call(
    credentials: Mapping[str, Any], method: str, path: str, body=None
) -> VendorCall:
    return VendorCall(
        method,
        _base(credentials) + path,
        headers={"Api-Token": credentials["api_key"]},
        json=body,
        error_message=_errors("title"),
    )


def _check_activecampaign(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        activecampaign_call(credentials, "GET", "/api/3/users/me"),
        vendor="ActiveCampaign",
        credentials=credentials,
    )
    return f"ActiveCampaign knows the user {answer.content['user'].get('email')!r}"


ACTIVECAMPAIGN = ResourceType(
    "activecampaign",
    "ActiveCampaign",
    credentials_schema(
        ["url", "api_key"],
        url={
            "type": "string",
            "pattern": URL_PATTERN,
            "title": "API URL",
            "description": "https://<account>.api-us1.com (Settings → Developer).",
            "examples": ["https://shop.api-us1.com"],
        },
        api_key=secret("API key", "Settings → Developer.", example="<key>"),
    ),
    check=_check_activecampaign,
)
