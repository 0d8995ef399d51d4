"""Widgets that show something: a call-to-action message and a marketer's own HTML/JS tag."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result
from apps.workflows.actions.ux import COLOUR_FIELDS, GROUP, WidgetAction, text_field

_WEB_ADDRESS_PREFIXES = ("https://", "http://", "/")


def _template(config: dict, key: str) -> str:
    text = config[key]
    for expression, offset in notation.template_placeholders(text):
        inner = expression[1:-1] if expression[:1] == expression[-1:] == "`" else expression
        try:
            notation.parse_reference(inner)
        except notation.NotationError as exc:
            raise ConfigError(f"{key}: the placeholder at character {offset + 1}: {exc}") from exc
    return text


class CallToActionAction(WidgetAction):
    id = "ux_call_to_action"
    name = "Call-to-action message"
    widget = "message"
    description = "Shows a short message with a link, e.g. a personal offer."
    docs = (
        "Shows `text` (a string template: `Hi {{profile@data.pii.firstname}}, your coupon is "
        "waiting`) with an optional link (`link_url`, `link_label`) at the top or bottom of the "
        "page, or in a corner. It appears `show_after_seconds` after the page got the answer "
        "and hides itself after `hide_after_seconds` (0: stays until the visitor closes it).\n\n"
        "The text and the link are rendered when the workflow runs; a missing value renders as "
        "an empty text. The link must be a web address (https://...) or a path on the shop "
        "(/sale)."
    )
    config_schema = {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {
                "type": "string",
                "minLength": 1,
                "title": "Text",
                "description": "The message, with {{source@path}} placeholders, e.g. "
                "Hi {{profile@data.pii.firstname}}, 10% off your next order.",
                "x-notation": "template",
            },
            "link_url": {
                "type": "string",
                "default": "",
                "title": "Link address",
                "description": "Where the link goes (https://... or /path on the shop); "
                "placeholders allowed. Empty: no link.",
                "x-notation": "template",
            },
            "link_label": text_field("Link text", "The link's text.", "See the offer"),
            "position": {
                "type": "string",
                "enum": ["corner", "bottom", "top"],
                "default": "corner",
                "title": "Position",
                "description": "A box in the bottom-right corner, or a bar at the bottom or the "
                "top of the page.",
            },
            "show_after_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 3600,
                "default": 0,
                "title": "Show after (seconds)",
                "description": "How long after the answer the message appears; 0: at once.",
            },
            "hide_after_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 3600,
                "default": 0,
                "title": "Hide after (seconds)",
                "description": "How long the message stays once shown; 0: until the visitor "
                "closes it.",
            },
            **COLOUR_FIELDS,
        },
    }

    def check(self) -> None:
        if not self.config["text"].strip():
            raise ConfigError("text: write the message to show")
        _template(self.config, "text")
        _template(self.config, "link_url")

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        text = notation.render_string(self.config["text"], data, default=None).strip()
        link = notation.render_string(self.config["link_url"], data, default=None).strip()
        if link and (link.startswith("//") or not link.startswith(_WEB_ADDRESS_PREFIXES)):
            raise ActionError(
                f"link_url: {link!r} is not a web address; it must start with https://, "
                "http:// or / (a path on the shop)"
            )
        self.show(
            flow,
            {
                "text": text,
                "link": {"url": link, "label": self.config["link_label"]} if link else None,
                "position": self.config["position"],
                "show_after_seconds": self.config["show_after_seconds"],
                "hide_after_seconds": self.config["hide_after_seconds"],
                "colours": self.colours(),
            },
        )
        return Result("payload", payload)


# The ux item of raw HTML: the tracker puts `content` in as HTML (its scripts run) when the
# item carries this attribute; every other item's content is text.
RAW_HTML_ATTRIBUTE = "data-cdp-html"


class HtmlTagAction(Action):
    id = "ux_html_tag"
    name = "HTML/JavaScript tag (admins only)"
    group = GROUP
    superuser_only = True
    description = "Admins only: puts your own HTML and JavaScript into the visitor's page."
    docs = (
        "Admins only: only a superuser may save or deploy a workflow with this action, because "
        "its code runs in every visitor's browser on the shop's pages, with the shop's "
        "cookies and the visitor's session.\n\n"
        "`html` is added at the end of the page's body as it is; `<script>` elements in it run "
        "(inline code and `src` files, in order). Nothing is escaped or checked: a mistake in "
        "the snippet can break the shop's page."
    )
    config_schema = {
        "type": "object",
        "required": ["html"],
        "properties": {
            "html": {
                "examples": ['<div class="banner">Free shipping today</div>'],
                "type": "string",
                "minLength": 1,
                "format": "textarea",
                "title": "HTML",
                "description": "HTML that may contain <script> elements; it runs in the "
                "visitor's page as it is.",
            },
        },
    }

    def setup(self) -> None:
        if not self.config["html"].strip():
            raise ConfigError("html: write the HTML to add to the page")

    def run(self, payload: Any, flow) -> Result:
        flow.ux.append(
            {
                "tag": "div",
                "props": {"class": "cdp-html-tag", RAW_HTML_ATTRIBUTE: "true"},
                "content": self.config["html"],
            }
        )
        return Result("payload", payload)
