"""Widgets that ask the visitor something: a consent bar, a question, a rating, a contact form.

Each sends the visitor's answer as one event through the page's tracker, so it carries the
visitor's session and profile (and shows on the profile's timeline). See ux.py for how a widget
reaches the page.
"""

from __future__ import annotations

import re
from typing import Any

from apps.profiles.selectors import consent_types_enabled
from apps.workflows.actions.base import ConfigError, Result
from apps.workflows.actions.ux import (
    COLOUR_FIELDS,
    WidgetAction,
    event_type_field,
    required_text,
    text_field,
)

# The consent bar's event and its properties are a contract with the consent storage:
# {"consents": {"<consent type id>": true|false, ...}}, one key per offered type.
CONSENT_EVENT = "consent-given"
_CONSENT_ID = re.compile(r"^[-a-zA-Z0-9_]+$")

POPUP_POSITIONS = ["bottom-right", "bottom-left", "center"]


def _position_field(default: str) -> dict:
    return {
        "type": "string",
        "enum": POPUP_POSITIONS,
        "default": default,
        "title": "Position",
        "description": "Where the popup opens: a bottom corner, or the middle of the screen. "
        "On a phone it always spans the bottom of the screen.",
    }


class ConsentBarAction(WidgetAction):
    id = "ux_consent_bar"
    name = "Consent bar"
    widget = "consent"
    description = "Shows a bar asking the visitor which consents they grant."
    docs = (
        "Shows a bar at the top or bottom of the page that offers the enabled consent types "
        "(Consent types in the admin; `consent_types` picks some of them, empty offers all "
        "enabled ones). A required type is ticked and cannot be unticked; a type granted by "
        "default starts ticked.\n\n"
        "The visitor's choice is sent as one `consent-given` event with properties "
        '`{"consents": {"<type id>": true|false, ...}}`, one key per offered type '
        "(true: granted).\n\n"
        "The widget only reaches the page when the rule that routes this workflow answers in "
        "the request. With no enabled consent type to offer, no bar is shown and the run log "
        "says so."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "title": text_field("Title", "The bar's heading.", "Your privacy"),
            "text": text_field(
                "Text",
                "What the bar says above the choices.",
                "We use cookies and similar tools to run this shop and, with your consent, "
                "to personalise offers. Choose what you allow.",
                long=True,
            ),
            "accept_all_label": text_field(
                "'Accept all' button", "Grants every offered consent.", "Accept all"
            ),
            "save_label": text_field(
                "'Save choices' button", "Grants the ticked consents only.", "Save my choices"
            ),
            "reject_label": text_field(
                "'Reject' button",
                "Grants only the required consents; empty: no such button.",
                "Only necessary",
            ),
            "position": {
                "type": "string",
                "enum": ["bottom", "top"],
                "default": "bottom",
                "title": "Position",
                "description": "The bar sits at the bottom or the top of the page.",
            },
            "consent_types": {
                "type": "array",
                "items": {
                    "type": "string",
                    "title": "Consent type id",
                    "description": "The id of a consent type, e.g. marketing.",
                },
                "default": [],
                "title": "Consent types offered",
                "description": "Ids of the consent types to offer (e.g. marketing); empty: "
                "every enabled consent type. Disabled types are never offered.",
            },
            **COLOUR_FIELDS,
        },
    }

    def check(self) -> None:
        for type_id in self.config["consent_types"]:
            if not isinstance(type_id, str) or not _CONSENT_ID.match(type_id):
                raise ConfigError(
                    f"consent_types: {type_id!r} is not a consent type id (letters, digits, "
                    "- and _, e.g. marketing)"
                )

    def run(self, payload: Any, flow) -> Result:
        types = consent_types_enabled(ids=self.config["consent_types"] or None)
        if not types:
            flow.log("warning", "Consent bar: no enabled consent type to offer; nothing shown.")
            return Result("payload", payload)
        self.show(
            flow,
            {
                "title": self.config["title"],
                "text": self.config["text"],
                "labels": {
                    "accept_all": self.config["accept_all_label"],
                    "save": self.config["save_label"],
                    "reject": self.config["reject_label"],
                },
                "position": self.config["position"],
                "colours": self.colours(),
                "event_type": CONSENT_EVENT,
                "consents": [
                    {
                        "id": consent.id,
                        "name": consent.name,
                        "description": consent.description,
                        "required": consent.required,
                        "default_granted": consent.default_granted,
                    }
                    for consent in types
                ],
            },
        )
        return Result("payload", payload)


class QuestionPopupAction(WidgetAction):
    id = "ux_question_popup"
    name = "Question popup"
    widget = "question"
    description = "Asks the visitor a question, with answers to pick or a free-text box."
    docs = (
        "Opens a popup with `question`. With `answers` the visitor picks one of them; without, "
        "they type a short answer. The answer is sent as an event (`event_type`, by default "
        '`question-answered`) with properties `{"question": "<question>", "answer": "<answer>"}`.'
    )
    config_schema = {
        "type": "object",
        "required": ["question"],
        "properties": {
            "title": text_field("Title", "The popup's heading; empty: none.", "Quick question"),
            "question": {
                "type": "string",
                "minLength": 1,
                "title": "Question",
                "description": "What the visitor is asked, e.g. What brings you here today?",
            },
            "answers": {
                "examples": [["Just looking", "A gift", "For work"]],
                "type": "array",
                "items": {
                    "type": "string",
                    "title": "Answer",
                    "description": "One answer the visitor can pick.",
                },
                "default": [],
                "title": "Answers",
                "description": "The answers to pick from; empty: the visitor types an answer.",
            },
            "submit_label": text_field("Send button", "The button that sends the answer.", "Send"),
            "thanks": text_field(
                "Thank-you text", "Shown after the answer is sent.", "Thank you for your answer!"
            ),
            "event_type": event_type_field("question-answered", '{"question": ..., "answer": ...}'),
            "position": _position_field("bottom-right"),
            **COLOUR_FIELDS,
        },
    }

    def check(self) -> None:
        required_text(self.config, "question", "the question to ask")
        answers = self.config["answers"]
        if any(not isinstance(answer, str) or not answer.strip() for answer in answers):
            raise ConfigError("answers: an answer is empty; remove the empty row")
        if len({answer.strip() for answer in answers}) != len(answers):
            raise ConfigError("answers: the same answer is listed twice")

    def run(self, payload: Any, flow) -> Result:
        self.show(
            flow,
            {
                "title": self.config["title"],
                "question": self.config["question"].strip(),
                "answers": [answer.strip() for answer in self.config["answers"]],
                "submit_label": self.config["submit_label"],
                "thanks": self.config["thanks"],
                "event_type": self.config["event_type"],
                "position": self.config["position"],
                "colours": self.colours(),
            },
        )
        return Result("payload", payload)


class RatingPopupAction(WidgetAction):
    id = "ux_rating_popup"
    name = "Rating popup"
    widget = "rating"
    description = "Asks the visitor to rate something with 1 to 5 stars."
    docs = (
        "Opens a popup asking for 1 to 5 stars for `subject` (e.g. `Checkout`). A click on a "
        "star sends an event (`event_type`, by default `rating-given`) with properties "
        '`{"rating": <1-5>, "subject": "<subject>"}`.'
    )
    config_schema = {
        "type": "object",
        "required": ["subject"],
        "properties": {
            "title": text_field("Title", "The question above the stars.", "How did we do?"),
            "subject": {
                "type": "string",
                "minLength": 1,
                "title": "Subject",
                "description": "What is rated, sent with the rating, e.g. Checkout.",
            },
            "thanks": text_field(
                "Thank-you text", "Shown after the rating is sent.", "Thank you for your rating!"
            ),
            "event_type": event_type_field("rating-given", '{"rating": 1-5, "subject": ...}'),
            "position": _position_field("bottom-right"),
            **COLOUR_FIELDS,
        },
    }

    def check(self) -> None:
        required_text(self.config, "subject", "what is rated, e.g. Checkout")

    def run(self, payload: Any, flow) -> Result:
        self.show(
            flow,
            {
                "title": self.config["title"],
                "subject": self.config["subject"].strip(),
                "thanks": self.config["thanks"],
                "event_type": self.config["event_type"],
                "position": self.config["position"],
                "colours": self.colours(),
            },
        )
        return Result("payload", payload)


# The predefined `identification` event maps properties.email and properties.phone (plain
# values) to profile.data.contact.email.main and .phone.main (apps/events/predefined.py).
IDENTIFICATION_EVENT = "identification"
CONTACT_FIELDS = ["email", "phone"]


class ContactFormPopupAction(WidgetAction):
    id = "ux_contact_form_popup"
    name = "Contact form popup"
    widget = "contact"
    description = "Asks the visitor for their e-mail and/or phone number."
    docs = (
        "Opens a popup with a small form: the `fields` chosen (`email`, `phone`), and, when "
        "`consent_text` is set, a box the visitor must tick before sending. The form is sent as "
        'an `identification` event with properties `{"email": ..., "phone": ...}` (the fields '
        "shown), which the predefined Identification event type maps to the profile's "
        "`data.contact.email.main` and `data.contact.phone.main`."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "title": text_field("Title", "The popup's heading.", "Stay in touch"),
            "text": text_field(
                "Text",
                "What the popup says above the form.",
                "Leave your contact and we will let you know about new arrivals.",
                long=True,
            ),
            "fields": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": CONTACT_FIELDS,
                    "title": "Field",
                    "description": "email or phone.",
                },
                "minItems": 1,
                "uniqueItems": True,
                "default": ["email"],
                "title": "Fields",
                "description": "What the form asks for: email, phone, or both.",
            },
            "consent_text": text_field(
                "Consent line",
                "A box the visitor must tick before sending, e.g. I agree to be contacted "
                "about offers; empty: none.",
                "",
            ),
            "submit_label": text_field("Send button", "The button that sends the form.", "Send"),
            "thanks": text_field(
                "Thank-you text", "Shown after the form is sent.", "Thank you! We'll be in touch."
            ),
            "position": _position_field("bottom-right"),
            **COLOUR_FIELDS,
        },
    }

    def run(self, payload: Any, flow) -> Result:
        self.show(
            flow,
            {
                "title": self.config["title"],
                "text": self.config["text"],
                "fields": list(self.config["fields"]),
                "consent_text": self.config["consent_text"].strip(),
                "submit_label": self.config["submit_label"],
                "thanks": self.config["thanks"],
                "event_type": IDENTIFICATION_EVENT,
                "position": self.config["position"],
                "colours": self.colours(),
            },
        )
        return Result("payload", payload)
