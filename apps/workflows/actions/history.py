"""Reading the profile's past: its previous event (of a type), its previous session, and
another profile found by a field (Tracardi's internal.get_prev_event, internal.get_prev_session,
internal.inject_profile_by_field).

These read the database (through the events' and profiles' selectors); a test run reads it
too, and writes nothing.
"""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.events.documents import event_document
from apps.events.selectors import event_previous
from apps.notation.functions import to_datetime
from apps.profiles.documents import profile_document, session_document
from apps.profiles.segment_sql import PROFILE_JSON_COLUMNS
from apps.profiles.selectors import PROFILE_BY_FIELD_LIMIT, profiles_by_field, session_previous
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result
from apps.workflows.actions.reading import check_references, read, text_property, value_property

CURRENT_TYPE = "@current"

_OFFSET = {
    "type": "integer",
    "maximum": -1,
    "minimum": -100,
    "default": -1,
    "title": "How far back",
    "description": "-1: the one just before this one, -2: the one before that...",
}


class PreviousEventAction(Action):
    id = "previous_event"
    name = "Get previous event"
    group = "Profiles"
    description = "Loads an earlier event of this profile (of this or another type)."
    docs = (
        "`event_type`: the type to look for; `@current` (default) means the type of this "
        "event. `offset`: -1 for the latest one before this event, -2 for the one before... "
        "The event (Tracardi's shape) goes to `found`; the unchanged payload goes to "
        "`not_found` when there is none. Events without a profile look among all events of "
        "the type, as in Tracardi."
    )
    outputs = ("found", "not_found")
    config_schema = {
        "type": "object",
        "properties": {
            "event_type": text_property(
                "Event type",
                "e.g. purchase; @current: the type of the event that runs the workflow.",
                default=CURRENT_TYPE,
                minLength=1,
            ),
            "offset": _OFFSET,
        },
    }

    def run(self, payload: Any, flow) -> Result:
        event_type = self.config["event_type"]
        if event_type == CURRENT_TYPE:
            event_type = flow.event.get("type")
        try:
            before = to_datetime((flow.event.get("metadata") or {}).get("time", {}).get("create"))
        except (notation.NotationError, ValueError, OverflowError, AttributeError):
            before = flow.now
        previous = event_previous(
            profile_id=(flow.profile or {}).get("id"),
            event_type=event_type,
            before=before,
            current_id=flow.event.get("id") or "",
            offset=-self.config["offset"],
        )
        if previous is None:
            return Result("not_found", payload)
        return Result("found", event_document(previous))


class PreviousSessionAction(Action):
    id = "previous_session"
    name = "Get previous session"
    group = "Profiles"
    description = "Loads an earlier session (visit) of this profile."
    docs = (
        "`offset`: -1 for the session before the current one, -2 for the one before... The "
        "session (id, metadata, device, os, app, utm, context, properties) goes to `found`; "
        "the unchanged payload goes to `not_found` when there is none or the event has no "
        "profile."
    )
    outputs = ("found", "not_found")
    config_schema = {"type": "object", "properties": {"offset": _OFFSET}}

    def run(self, payload: Any, flow) -> Result:
        if flow.profile is None:
            flow.log("warning", "This event has no profile, so it has no previous session.")
            return Result("not_found", payload)
        previous = session_previous(
            profile_id=flow.profile["id"],
            current_session_id=(flow.session or {}).get("id"),
            offset=-self.config["offset"],
        )
        if previous is None:
            return Result("not_found", payload)
        return Result("found", session_document(previous))


class LoadProfileByFieldAction(Action):
    id = "load_profile_by_field"
    name = "Load profile by..."
    group = "Profiles"
    description = "Finds another profile by a field (e-mail, customer number, id) and sends it on."
    docs = (
        "`field`: the profile field to search, `profile@id` or a dot path such as "
        "`profile@data.contact.email.main` (default; compared case-insensitively) or "
        "`profile@traits.customer_no`; `value`: what it must equal, a dot path (default "
        "`event@properties.email`) or a literal. When exactly one active profile matches, it "
        'goes to `profile` (Tracardi\'s shape). None, or more than one, sends `{"message"}` '
        "to `error`. Unlike Tracardi, the run's own profile stays the event's: changes to the "
        "loaded one are not saved (use Merge profiles to join two people)."
    )
    outputs = ("profile", "error")
    config_schema = {
        "type": "object",
        "properties": {
            "field": {
                "type": "string",
                "default": "profile@data.contact.email.main",
                "title": "Profile field",
                "description": "profile@id, or a field such as profile@data.contact.email.main "
                "or profile@traits.customer_no.",
                "x-notation": "path",
            },
            "value": value_property(
                "Value",
                "A dot path to the value to look for, e.g. event@properties.email.",
                default="event@properties.email",
            ),
        },
    }

    def setup(self) -> None:
        check_references(self.config, "value")
        field = self.config["field"].removeprefix("profile@")
        column, _, rest = field.partition(".")
        if field != "id" and (column not in PROFILE_JSON_COLUMNS or not rest):
            raise ConfigError(
                f"field: {self.config['field']!r} is not a profile field; write profile@id or "
                f"a path under {', '.join(PROFILE_JSON_COLUMNS)}, e.g. "
                "profile@data.contact.email.main"
            )
        self.field = field

    def run(self, payload: Any, flow) -> Result:
        value = read(self, "value", payload, flow)
        if value in (None, "") or isinstance(value, dict | list):
            raise ActionError(f"value: {self.config['value']} holds {value!r:.60}, not a value")
        found = profiles_by_field(field=self.field, value=value)
        if len(found) != 1:
            count = "more than one" if len(found) >= PROFILE_BY_FIELD_LIMIT else "no"
            message = f"Found {count} profile with {self.field} = {value!r}."
            return Result("error", {"message": message})
        return Result("profile", profile_document(found[0]))
