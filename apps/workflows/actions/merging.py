"""Merging profiles: ask for the current profile to absorb others with the same identifiers."""

from __future__ import annotations

from typing import Any

from apps.workflows.actions.base import Action, ActionError, ConfigError, Result

_ROOTS = ("data.", "traits.", "aux.")


class MergeProfilesAction(Action):
    id = "merge_profiles"
    name = "Merge profiles"
    group = "Profiles"
    description = "Merges other profiles with the same values at some fields into this one."
    docs = (
        "`merge_by`: profile fields that identify a person, e.g. "
        '`["profile@data.contact.email.main"]` (fields under data, traits or aux). As in '
        "Tracardi, the merge happens after the event's workflows have run: every other profile "
        "holding the same values at all these fields is merged into the current profile (which "
        "keeps its id; their ids, events, sessions and runs move to it). A profile without a "
        "value at one of the fields merges nothing. In a test run the merge is only reported."
    )
    config_schema = {
        "type": "object",
        "required": ["merge_by"],
        "properties": {
            "merge_by": {
                "type": "array",
                "minItems": 1,
                "title": "Merge by",
                "description": "Profile fields that identify a person, e.g. "
                "profile@data.contact.email.main.",
                "items": {
                    "type": "string",
                    "minLength": 1,
                    "title": "Profile field",
                    "x-notation": "path",
                },
            }
        },
    }

    def setup(self) -> None:
        self.paths = []
        for text in self.config["merge_by"]:
            path = text.strip().removeprefix("profile@")
            if not path.startswith(_ROOTS):
                raise ConfigError(
                    f"merge_by: {text!r} is not a profile field under data, traits or aux "
                    "(e.g. profile@data.contact.email.main)"
                )
            self.paths.append(path)

    def run(self, payload: Any, flow) -> Result:
        flow.require_profile(self.name)
        if flow.effects is None:
            raise ActionError("profiles cannot be merged here")
        flow.effects.profile_merge_request(flow=flow, merge_by=self.paths)
        flow.log("info", f"merge requested by {', '.join(self.paths)}")
        return Result("payload", payload)
