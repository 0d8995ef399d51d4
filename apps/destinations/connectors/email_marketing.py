"""E-mail and CRM services: SendGrid, Brevo, HubSpot, Mailchimp (marketing and transactional).

- SendGrid v3 (https://www.twilio.com/docs/sendgrid/api-reference): Bearer API key; POST
  /v3/mail/send answers 202 with no body; PUT /v3/marketing/contacts answers 202 {"job_id"};
  errors {"errors": [{"message", "field"}]}.
- Brevo (https://developers.brevo.com/reference/sendtransacemail): `api-key` header; POST
  /v3/smtp/email answers 201 {"messageId"}; errors {"code", "message"}.
- HubSpot CRM v3 (https://developers.hubspot.com/docs/api/crm/contacts): Bearer private app
  token; errors {"status": "error", "message", "category"}; 429 {"errorType": "RATE_LIMIT"}.
- Mailchimp Marketing 3.0 (https://mailchimp.com/developer/marketing/api/list-members/): basic
  auth with any user and the API key, whose suffix names the data centre (…-us21); a member is
  addressed by the MD5 of the lower-cased e-mail; errors are problem documents {"title",
  "detail", "status"}.
- Mailchimp Transactional (Mandrill, https://mailchimp.com/developer/transactional/api/messages/):
  the key in the body; errors {"status": "error", "name", "message"}.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from apps.destinations.connectors.http import VendorCall, VendorError, vendor_call
from apps.destinations.connectors.types import ResourceType, credentials_schema, secret


def _sendgrid_errors(content: Any) -> str:
    if isinstance(content, dict) and isinstance(content.get("errors"), list):
        return "; ".join(
            str(error.get("message", error)) if isinstance(error, dict) else str(error)
            for error in content["errors"]
        )
    return str(content or "")


def sendgrid_call(credentials: Mapping[str, Any], method: str, path: str, body=None) -> VendorCall:
    return VendorCall(
        method,
        SENDGRID.url(path),
        headers={"Authorization": f"Bearer {credentials['api_key']}"},
        json=body,
        error_message=_sendgrid_errors,
    )


def _check_sendgrid(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        sendgrid_call(credentials, "GET", "/v3/scopes"), vendor="SendGrid", credentials=credentials
    )
    return f"SendGrid accepted the key ({len(answer.content.get('scopes', []))} scopes)"


SENDGRID = ResourceType(
    "sendgrid",
    "SendGrid",
    credentials_schema(
        ["api_key"],
        api_key=secret("API key", "SG.… (Settings → API Keys).", example="SG.<key>"),
    ),
    check=_check_sendgrid,
    api_url="https://api.sendgrid.com",
)


def _message(content: Any) -> str:
    return str(content.get("message", "")) if isinstance(content, dict) else str(content or "")


def brevo_call(credentials: Mapping[str, Any], method: str, path: str, body=None) -> VendorCall:
    return VendorCall(
        method,
        BREVO.url(path),
        headers={"api-key": credentials["api_key"], "accept": "application/json"},
        json=body,
        error_message=_message,
    )


def _check_brevo(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        brevo_call(credentials, "GET", "/v3/account"), vendor="Brevo", credentials=credentials
    )
    return f"Brevo knows the account {answer.content.get('email')!r}"


BREVO = ResourceType(
    "brevo",
    "Brevo",
    credentials_schema(["api_key"], api_key=secret("API key", "xkeysib-… (SMTP & API).")),
    check=_check_brevo,
    api_url="https://api.brevo.com",
)


def hubspot_call(
    credentials: Mapping[str, Any], method: str, path: str, *, body=None, params=None
) -> VendorCall:
    return VendorCall(
        method,
        HUBSPOT.url(path),
        headers={"Authorization": f"Bearer {credentials['token']}"},
        json=body,
        params=params,
        error_message=_message,
    )


def _check_hubspot(credentials: Mapping[str, Any]) -> str:
    call = hubspot_call(credentials, "GET", "/crm/v3/objects/contacts", params={"limit": "1"})
    vendor_call(call, vendor="HubSpot", credentials=credentials)
    return "HubSpot accepted the token (contacts can be read)"


HUBSPOT = ResourceType(
    "hubspot",
    "HubSpot",
    credentials_schema(
        ["token"],
        token=secret(
            "Private app token",
            "pat-… with the crm.objects.contacts scopes.",
            example="pat-na1-<token>",
        ),
    ),
    check=_check_hubspot,
    api_url="https://api.hubapi.com",
)


def _problem(content: Any) -> str:
    if isinstance(content, dict) and ("title" in content or "detail" in content):
        return f"{content.get('title', '')}: {content.get('detail', '')}".strip(": ")
    return str(content or "")


def mailchimp_data_centre(api_key: str) -> str:
    centre = api_key.rpartition("-")[2]
    if not centre or centre == api_key:
        raise VendorError("Mailchimp: the API key should end in its data centre, e.g. …-us21")
    return centre


def member_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 (Mailchimp's id)


def mailchimp_call(credentials: Mapping[str, Any], method: str, path: str, body=None) -> VendorCall:
    centre = mailchimp_data_centre(credentials["api_key"])
    return VendorCall(
        method,
        MAILCHIMP.url(path, dc=centre),
        auth=("cdp", credentials["api_key"]),
        json=body,
        error_message=_problem,
    )


def _check_mailchimp(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        mailchimp_call(credentials, "GET", "/ping"), vendor="Mailchimp", credentials=credentials
    )
    return f"Mailchimp answered: {answer.content.get('health_status')}"


MAILCHIMP = ResourceType(
    "mailchimp",
    "Mailchimp (marketing)",
    credentials_schema(
        ["api_key"],
        api_key=secret("API key", "…-us21 (Account → Extras → API keys).", example="<key>-us21"),
    ),
    check=_check_mailchimp,
    api_url="https://{dc}.api.mailchimp.com/3.0",
)


def mandrill_call(credentials: Mapping[str, Any], path: str, body: dict) -> VendorCall:
    return VendorCall(
        "POST",
        MANDRILL.url(path),
        json={"key": credentials["api_key"], **body},
        error_message=_message,
    )


def _check_mandrill(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        mandrill_call(credentials, "/users/ping2", {}),
        vendor="Mailchimp Transactional",
        credentials=credentials,
    )
    return f"Mailchimp Transactional answered: {answer.content.get('PING')}"


MANDRILL = ResourceType(
    "mandrill",
    "Mailchimp Transactional (Mandrill)",
    credentials_schema(["api_key"], api_key=secret("API key", "The Transactional API key.")),
    check=_check_mandrill,
    api_url="https://mandrillapp.com/api/1.0",
)
