"""Chat and push connectors: Slack (webhook, bot), Discord, Telegram, Pushover, Zapier, Twilio."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps import notation
from apps.destinations.connectors import messaging, slack
from apps.destinations.connectors.http import VendorCall
from apps.workflows.actions.base import ConfigError
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    required,
    template_property,
)

MESSAGE = template_property(
    "Message", "Text to send; may hold {{profile@data.pii.firstname}} placeholders.", long=True
)
PORTS_DOC = (
    "\n\nThe vendor's answer goes to `response` as {status, content, error: null}; a refusal, "
    "timeout or rate limit to `error` with the vendor's message in `error`."
)


class SlackWebhookAction(ConnectorAction):
    id = "slack_webhook_post"
    name = "Slack: post via webhook"
    description = "Posts a message to the Slack channel of an incoming webhook."
    docs = "`message` is a string template; Slack formats it as mrkdwn." + PORTS_DOC
    resource_types = ("slack_webhook",)
    vendor = "Slack"
    config_schema = connector_schema(resource_types, ["message"], message=MESSAGE)

    def setup(self) -> None:
        required(self.config, "message")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        return slack.webhook_call(credentials, {"text": self.required_text("message", data)})


class SlackPostMessageAction(ConnectorAction):
    id = "slack_post_message"
    name = "Slack: post to channel"
    description = "Posts a message to a Slack channel with a bot token (chat.postMessage)."
    docs = (
        "`channel` is a channel id (C…) or name (#general), the bot must be in it; `message` "
        "is a string template." + PORTS_DOC
    )
    resource_types = ("slack",)
    vendor = "Slack"
    config_schema = connector_schema(
        resource_types,
        ["channel", "message"],
        channel=template_property("Channel", "Channel id or #name; may be a template."),
        message=MESSAGE,
    )

    def setup(self) -> None:
        required(self.config, "channel", "message")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {
            "channel": self.required_text("channel", data),
            "text": self.required_text("message", data),
        }
        return slack.web_api_call(credentials, "chat.postMessage", body)


class DiscordWebhookAction(ConnectorAction):
    id = "discord_webhook_post"
    name = "Discord: post via webhook"
    description = "Posts a message to the Discord channel of a webhook."
    docs = "`message` (at most 2000 characters), optional `username` shown as the sender." + (
        PORTS_DOC
    )
    resource_types = ("discord",)
    vendor = "Discord"
    config_schema = connector_schema(
        resource_types,
        ["message"],
        message=MESSAGE,
        username={
            "type": ["string", "null"],
            "default": None,
            "title": "Sender name",
            "description": "Optional: replaces the webhook's name for this message, e.g. Shop bot.",
        },
    )

    def setup(self) -> None:
        required(self.config, "message")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {"content": self.required_text("message", data)}
        if self.config.get("username"):
            body["username"] = self.config["username"]
        return messaging.discord_call(credentials, body)


class TelegramSendMessageAction(ConnectorAction):
    id = "telegram_send_message"
    name = "Telegram: send message"
    description = "Sends a message from a Telegram bot to a chat (sendMessage)."
    docs = (
        "`chat_id`: the chat's id (or @channelusername), may be a template such as "
        "{{profile@data.identifier.telegram}}; `parse_mode` HTML or MarkdownV2 formats the "
        "text." + PORTS_DOC
    )
    resource_types = ("telegram",)
    vendor = "Telegram"
    config_schema = connector_schema(
        resource_types,
        ["chat_id", "message"],
        chat_id=template_property("Chat id", "A chat id or @channelusername; may be a template."),
        message=MESSAGE,
        parse_mode={
            "enum": ["", "HTML", "MarkdownV2"],
            "default": "",
            "title": "Formatting",
            "description": "Empty: plain text.",
        },
    )

    def setup(self) -> None:
        required(self.config, "chat_id", "message")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = {
            "chat_id": self.required_text("chat_id", data),
            "text": self.required_text("message", data),
        }
        if self.config["parse_mode"]:
            body["parse_mode"] = self.config["parse_mode"]
        return messaging.telegram_call(credentials, "sendMessage", body)


class PushoverPushAction(ConnectorAction):
    id = "pushover_push"
    name = "Pushover: push notification"
    description = "Sends a push notification to the Pushover user or group of the resource."
    docs = "`message` and an optional `title` (string templates)." + PORTS_DOC
    resource_types = ("pushover",)
    vendor = "Pushover"
    config_schema = connector_schema(
        resource_types,
        ["message"],
        title=template_property("Title", "Optional; the application's name when empty."),
        message=MESSAGE,
    )

    def setup(self) -> None:
        required(self.config, "message")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        fields = {"message": self.required_text("message", data)}
        if title := self.text("title", data).strip():
            fields["title"] = title
        return messaging.pushover_call(credentials, "/1/messages.json", fields)


class ZapierWebhookAction(ConnectorAction):
    id = "zapier_webhook"
    name = "Zapier: trigger a Zap"
    description = "Sends data to a Zapier catch hook, which starts its Zap."
    docs = (
        "`body` is an object template (e.g. email: profile@data.contact.email.main); empty "
        "sends the payload as it is." + PORTS_DOC
    )
    resource_types = ("zapier",)
    vendor = "Zapier"
    config_schema = connector_schema(
        resource_types,
        [],
        body={
            "type": ["object", "null"],
            "default": None,
            "title": "Data",
            "description": "An object template; empty: the payload.",
            "x-form": "object-template",
        },
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        body = self.config["body"]
        sent = data["payload"] if body is None else notation.render_template(body, data)
        return messaging.zapier_call(credentials, sent)


class TwilioSmsAction(ConnectorAction):
    id = "twilio_send_sms"
    name = "Twilio: send SMS"
    description = "Sends a text message through Twilio's Messages API."
    docs = (
        "`to` (E.164, e.g. {{profile@data.contact.phone.mobile}}), `from` (a Twilio number "
        "or messaging service's sender), `message`." + PORTS_DOC
    )
    resource_types = ("twilio",)
    vendor = "Twilio"
    config_schema = connector_schema(
        resource_types,
        ["to", "from", "message"],
        to=template_property("To", "The recipient's number, E.164 (+4420…); a template."),
        **{"from": template_property("From", "Your Twilio number, E.164.")},
        message=MESSAGE,
    )

    def setup(self) -> None:
        required(self.config, "to", "from", "message")
        if "{{" not in self.config["from"] and not self.config["from"].startswith("+"):
            raise ConfigError("from: write the Twilio number in E.164, e.g. +14155550100")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        form = {
            "To": self.required_text("to", data),
            "From": self.required_text("from", data),
            "Body": self.required_text("message", data),
        }
        return messaging.twilio_call(credentials, "POST", "/Messages.json", form)
