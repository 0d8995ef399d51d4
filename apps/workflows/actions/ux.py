"""What the UX actions share: the pair of ux items a widget is delivered as, and the form
fields (colours, positions, texts) most widgets have.

A widget reaches the visitor's page through the /track answer's `ux` list (only when its rule
answers in the request; a worker run drops `flow.ux`). Each widget is two items in the shape the
tracker renders, `{"tag", "props", "content"}`:

1. a marker element, `<div class="cdp-widget" data-widget="<name>" data-config="<JSON>">`,
   carrying everything the widget shows (texts already rendered, consent types already read);
2. `<script src="/tracker/widgets/<name>.js">`, the widget's code. The path is root-relative on
   purpose: a workflow run has no request to build an absolute URL from, and the CDP may sit
   under a path prefix, so the tracker resolves a ux script `src` that starts with one "/"
   against its own `options.tracker.url.api` (the CDP's address). The widget script renders
   every marker of its name on the page, now and in later answers.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar

from apps.workflows.actions.base import Action, ConfigError

WIDGET_CLASS = "cdp-widget"
WIDGET_SCRIPT = "/tracker/widgets/{name}.js"
GROUP = "UX"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def widget_items(name: str, config: dict) -> list[dict]:
    """The two ux items that put widget `name` with `config` on the visitor's page."""
    return [
        {
            "tag": "div",
            "props": {
                "class": WIDGET_CLASS,
                "data-widget": name,
                "data-config": json.dumps(config, ensure_ascii=False, separators=(",", ":")),
            },
            "content": None,
        },
        {"tag": "script", "props": {"src": WIDGET_SCRIPT.format(name=name)}, "content": None},
    ]


def text_field(title: str, description: str, default: str, *, long: bool = False) -> dict:
    field = {"type": "string", "title": title, "description": description, "default": default}
    if long:
        field["format"] = "textarea"
    return field


def colour_field(title: str, description: str, default: str) -> dict:
    return {
        "type": "string",
        "title": title,
        "description": f"{description} A colour as #rrggbb, e.g. {default}.",
        "default": default,
    }


COLOUR_FIELDS = {
    "background_colour": colour_field("Background colour", "The box's background.", "#ffffff"),
    "text_colour": colour_field("Text colour", "The colour of the texts.", "#1f2933"),
    "button_colour": colour_field(
        "Button colour",
        "The main button's colour; its label is drawn in black or white, whichever reads "
        "better on it.",
        "#1a56db",
    ),
}

EVENT_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$")


def event_type_field(default: str, properties: str) -> dict:
    return {
        "type": "string",
        "title": "Event type sent",
        "description": f"The event the visitor's answer is sent as, with properties {properties}.",
        "default": default,
    }


class WidgetAction(Action):
    """An action that appends one widget to `flow.ux` and passes its payload on."""

    group = GROUP
    widget: ClassVar[str]

    def setup(self) -> None:
        for key in COLOUR_FIELDS:
            if key in self.config_schema["properties"]:
                colour = self.config[key]
                if not isinstance(colour, str) or not _COLOUR.match(colour):
                    raise ConfigError(
                        f"{key}: {colour!r} is not a colour; write it as #rrggbb, e.g. #1a56db"
                    )
        if "event_type" in self.config_schema["properties"]:
            event_type = self.config["event_type"]
            if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.match(event_type):
                raise ConfigError(
                    f"event_type: {event_type!r} is not an event type; use letters, digits "
                    "and - _ . : (e.g. rating-given), at most 100 characters"
                )
        self.check()

    def check(self) -> None:
        """Widget-specific config checks; raise ConfigError."""

    def colours(self) -> dict[str, str]:
        return {key.removesuffix("_colour"): self.config[key] for key in COLOUR_FIELDS}

    def show(self, flow, config: dict) -> None:
        flow.ux.extend(widget_items(self.widget, config))


def required_text(config: dict, key: str, what: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: write {what}")
    return value.strip()
