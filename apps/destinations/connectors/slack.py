"""Slack: incoming webhooks (https://api.slack.com/messaging/webhooks) and the Web API's
chat.postMessage with a bot token (https://api.slack.com/methods/chat.postMessage).

Errors: a webhook answers 4xx with the error code as text ("invalid_payload",
"channel_not_found"...); the Web API answers 200 with {"ok": false, "error": "<code>"}. Both
answer 429 with Retry-After when rate limited."""

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


def _web_api_error(content: Any) -> str:
    return content.get("error", "") if isinstance(content, dict) else str(content or "")


def _web_api_failed(status: int, content: Any) -> bool:
    return isinstance(content, dict) and content.get("ok") is False


def web_api_call(credentials: Mapping[str, Any], method: str, body: dict) -> VendorCall:
    return VendorCall(
        "POST",
        SLACK_BOT.url(f"/{method}"),
        headers={
            "Authorization": f"Bearer {credentials['token']}",
            "Content-Type": "application/json; charset=utf-8",
        },
        json=body,
        error_message=_web_api_error,
        is_error=_web_api_failed,
    )


def webhook_call(credentials: Mapping[str, Any], body: dict) -> VendorCall:
    return VendorCall("POST", credentials["webhook_url"], json=body, error_message=str)


def _check_bot(credentials: Mapping[str, Any]) -> str:
    answer = vendor_call(
        web_api_call(credentials, "auth.test", {}), vendor="Slack", credentials=credentials
    )
    return f"Slack accepted the token: team {answer.content.get('team')!r}, user " + repr(
        answer.content.get("user")
    )


SLACK_BOT = ResourceType(
    "slack",
    "Slack (bot token)",
    credentials_schema(
        ["token"], token=secret("Bot token", "The bot's OAuth token, xoxb-…, with chat:write.")
    ),
    check=_check_bot,
    api_url="https://slack.com/api",
)

SLACK_WEBHOOK = ResourceType(
    "slack_webhook",
    "Slack incoming webhook",
    credentials_schema(
        ["webhook_url"],
        webhook_url=url_secret(
            "Webhook URL", "https://hooks.slack.com/services/… from the Slack app's settings."
        ),
    ),
)
