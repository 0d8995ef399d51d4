"""E-mail over SMTP: `to`, `subject` and `body` are string templates (apps.notation.render_string)
over the profile/event data and `payload@...` (the rendered mapping)."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, ClassVar

from apps import notation
from apps.destinations.senders.base import SendResult

MAX_TIMEOUT_SECONDS = 30
DEFAULT_TIMEOUT_SECONDS = 10


def _transient(code: int) -> bool:
    return 400 <= code < 500


class SmtpSender:
    """Sends one e-mail per delivery through an SMTP server; recipients, subject and body are
    string templates over the profile, the event and the rendered mapping (`payload@`)."""

    settings_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["from", "to", "subject", "body"],
        "properties": {
            "from": {
                "type": "string",
                "minLength": 3,
                "description": "The sender's address.",
                "examples": ["Shop <news@shop.example>"],
            },
            "to": {
                "type": "string",
                "minLength": 1,
                "description": "Template, e.g. {{profile@data.contact.email.main}}; "
                "several addresses separated by commas.",
            },
            "subject": {
                "type": "string",
                "description": "Template of the subject line.",
                "examples": ["Welcome, {{profile@data.pii.firstname}}"],
            },
            "body": {
                "type": "string",
                "x-widget": "textarea",
                "description": "Template of the message.",
                "examples": ["Your code: {{payload@code}}"],
            },
            "html": {"type": "boolean", "default": False, "description": "The body is HTML."},
            "reply_to": {
                "type": "string",
                "description": "Optional Reply-To address.",
                "examples": ["help@shop.example"],
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
                "description": f"Seconds to wait for the server (at most {MAX_TIMEOUT_SECONDS}).",
            },
        },
        "additionalProperties": False,
    }
    credentials_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["host"],
        "properties": {
            "host": {
                "type": "string",
                "minLength": 1,
                "description": "The SMTP server.",
                "examples": ["smtp.example.com"],
            },
            "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535,
                "description": "Default: 465 with ssl, else 25.",
                "examples": [587],
            },
            "username": {
                "type": "string",
                "description": "Login, when the server needs one.",
                "examples": ["news@shop.example"],
            },
            "password": {
                "type": "string",
                "description": "Password of the login.",
                "examples": ["<password>"],
            },
            "security": {
                "enum": ["none", "starttls", "ssl"],
                "default": "none",
                "description": "Encryption of the connection.",
            },
        },
        "additionalProperties": False,
    }

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
        try:
            message = self._message(settings, context, idempotency_key)
        except (notation.NotationError, ValueError) as error:
            return SendResult(ok=False, error=f"Cannot build the e-mail: {error}")
        security = credentials.get("security", "none")
        port = credentials.get("port", 465 if security == "ssl" else 25)
        timeout = settings.get("timeout", DEFAULT_TIMEOUT_SECONDS)
        client_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
        try:
            with client_class(credentials["host"], port, timeout=timeout) as client:
                if security == "starttls":
                    client.starttls()
                if credentials.get("username"):
                    client.login(credentials["username"], credentials.get("password", ""))
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            return SendResult(
                ok=False,
                status_code=codes[0] if codes else None,
                error=f"All recipients refused: {error.recipients}",
                retryable=bool(codes) and all(_transient(code) for code in codes),
            )
        except smtplib.SMTPResponseException as error:
            return SendResult(
                ok=False,
                status_code=error.smtp_code,
                error=f"SMTP {error.smtp_code}: {error.smtp_error!r}",
                retryable=_transient(error.smtp_code),
            )
        except (smtplib.SMTPException, OSError) as error:
            return SendResult(ok=False, error=f"SMTP connection failed: {error}", retryable=True)
        answer = f"Accepted for {message['To']}"
        if refused:
            answer += f"; refused: {refused}"
        return SendResult(ok=True, status_code=250, response_excerpt=answer)

    @staticmethod
    def _message(
        settings: Mapping[str, Any], context: Mapping[str, Any], idempotency_key: str
    ) -> EmailMessage:
        recipients = [
            address
            for _, address in getaddresses([notation.render_string(settings["to"], context)])
            if address
        ]
        if not recipients:
            raise ValueError(f"the recipient template {settings['to']!r} rendered no address")
        message = EmailMessage()
        message["From"] = settings["from"]
        message["To"] = ", ".join(recipients)
        message["Subject"] = notation.render_string(settings["subject"], context)
        if settings.get("reply_to"):
            message["Reply-To"] = settings["reply_to"]
        # The same attempt resent after a lost worker keeps its Message-ID, which mail systems
        # use to drop duplicates.
        domain = settings["from"].rpartition("@")[2].strip(" >") or "cdp.local"
        message["Message-ID"] = f"<{idempotency_key}@{domain}>"
        body = notation.render_string(settings["body"], context)
        message.set_content(body, subtype="html" if settings.get("html") else "plain")
        return message
