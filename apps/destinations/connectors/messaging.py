"""Push and chat services with one call each: Discord webhooks, Telegram bots, Pushover,
Zapier webhooks, Twilio SMS.

- Discord (https://discord.com/developers/docs/resources/webhook#execute-webhook): POST the
  webhook URL with `?wait=true` (the answer is the message), errors {"message", "code"}, 429
  {"message", "retry_after"} with Retry-After.
- Telegram (https://core.telegram.org/bots/api#making-requests): POST
  /bot<token>/<method>, answers {"ok", "result"} or {"ok": false, "error_code",
  "description"}, a flood limit 429 with {"parameters": {"retry_after": N}}.
- Pushover (https://pushover.net/api): form POST /1/messages.json, {"status": 1} or
  {"status": 0, "errors": [...]}.
- Zapier (https://help.zapier.com/hc/en-us/articles/8496288690317): POST the catch hook URL,
  {"status": "success", "id", "request_id"}.
- Twilio (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
  form POST /2010-04-01/Accounts/{AccountSid}/Messages.json with basic auth (SID, auth token),
  errors {"code", "message", "more_info", "status"}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.destinations.connectors.http import VendorCall, vendor_call
from apps.destinations.connectors.types import (
    ResourceType,
    credentials_schema,
    secret,
    url_secret,
)


def _field(name: str):
    def message(content: Any) -> str:
        return str(content.get(name, "")) if isinstance(content, dict) else str(content or "")

    return message


# -- Discord -----------------------------------------------------------------------------


def discord_call(credentials: Mapping[str, Any], body: dict) -> VendorCall:
    return VendorCall(
        "POST",
        credentials["webhook_url"],
        params={"wait": "true"},
        json=body,
        error_message=_field("message"),
    )


def _check_discord(credentials: Mapping[str, Any]) -> str:
    call = VendorCall("GET", credentials["webhook_url"], error_message=_field("message"))
    answer = vendor_call(call, vendor="Discord", credentials=credentials)
    return f"Discord knows the webhook {answer.content.get('name')!r}"


DISCORD = ResourceType(
    "discord",
    "Discord webhook",
    credentials_schema(
        ["webhook_url"],
        webhook_url=url_secret(
            "Webhook URL", "https://discord.com/api/webhooks/<id>/<token> (channel settings)."
        ),
    ),
    check=_check_discord,
)


# -- Telegram ----------------------------------------------------------------------------


def _telegram_wait(content: Any) -> float | None:
    if isinstance(content, dict) and content.get("error_code") == 429:
        wait = (content.get("parameters") or {}).get("retry_after")
        return float(wait) if isinstance(wait, int | float) else None
    return None


def telegram_call(credentials: Mapping[str, Any], method: str, body: dict | None) -> VendorCall:
    return VendorCall(
        "POST",
        TELEGRAM.url(f"/bot{credentials['token']}/{method}"),
        json=body,
        error_message=_field("description"),
        is_error=lambda status, content: isinstance(content, dict) and content.get("ok") is False,
        retry_after=_telegram_wait,
    )


def _check_telegram(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        telegram_call(credentials, "getMe", None), vendor="Telegram", credentials=credentials
    )
    return f"Telegram knows the bot @{answer.content['result'].get('username')}"


TELEGRAM = ResourceType(
    "telegram",
    "Telegram bot",
    credentials_schema(["token"], token=secret("Bot token", "From @BotFather, e.g. 123456:ABC…")),
    check=_check_telegram,
    api_url="https://api.telegram.org",
)


# -- Pushover ----------------------------------------------------------------------------


def _pushover_errors(content: Any) -> str:
    if isinstance(content, dict) and isinstance(content.get("errors"), list):
        return "; ".join(str(error) for error in content["errors"])
    return str(content or "")


def pushover_call(credentials: Mapping[str, Any], path: str, fields: dict) -> VendorCall:
    return VendorCall(
        "POST",
        PUSHOVER.url(path),
        data={"token": credentials["token"], "user": credentials["user"], **fields},
        error_message=_pushover_errors,
        is_error=lambda status, content: isinstance(content, dict) and content.get("status") != 1,
    )


def _check_pushover(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        pushover_call(credentials, "/1/users/validate.json", {}),
        vendor="Pushover",
        credentials=credentials,
    )
    return f"Pushover knows the user key; devices: {answer.content.get('devices', [])}"


PUSHOVER = ResourceType(
    "pushover",
    "Pushover",
    credentials_schema(
        ["token", "user"],
        token=secret("Application token", "The API token of your Pushover application."),
        user=secret("User key", "The user (or group) key the messages go to."),
    ),
    check=_check_pushover,
    api_url="https://api.pushover.net",
)


# -- Zapier ------------------------------------------------------------------------------


def zapier_call(credentials: Mapping[str, Any], body: Any) -> VendorCall:
    return VendorCall("POST", credentials["webhook_url"], json=body, error_message=str)


ZAPIER = ResourceType(
    "zapier",
    "Zapier webhook",
    credentials_schema(
        ["webhook_url"],
        webhook_url=url_secret(
            "Catch hook URL", "https://hooks.zapier.com/hooks/catch/… (Webhooks by Zapier)."
        ),
    ),
)


# -- Twilio ------------------------------------------------------------------------------


def twilio_call(credentials: Mapping[str, Any], method: str, path: str, form=None) -> VendorCall:
    sid = credentials["account_sid"]
    return VendorCall(
        method,
        TWILIO.url(f"/2010-04-01/Accounts/{sid}{path}"),
        data=form,
        auth=(sid, credentials["auth_token"]),
        error_message=_field("message"),
    )


def _check_twilio(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        twilio_call(credentials, "GET", ".json"), vendor="Twilio", credentials=credentials
    )
    return (
        f"Twilio knows the account {answer.content.get('friendly_name')!r} "
        f"({answer.content.get('status')})"
    )


TWILIO = ResourceType(
    "twilio",
    "Twilio",
    credentials_schema(
        ["account_sid", "auth_token"],
        account_sid=secret("Account SID", "AC… from the Twilio console."),
        auth_token=secret("Auth token"),
    ),
    check=_check_twilio,
    api_url="https://api.twilio.com",
)
