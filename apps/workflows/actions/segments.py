"""Segments: add the profile to a segment (always, or if a condition holds), or take it out.

Profiles carry segment *slugs* (the name in lower case, spaces as '-'), like Segment rows and
the admin's member lists (apps.profiles.services.segments)."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.core.text import segment_slug
from apps.profiles.services.segments import segment_add_if
from apps.workflows.actions.base import (
    Action,
    ActionError,
    ConfigError,
    Result,
    compiled_condition,
)

_SCHEMA = {
    "type": "object",
    "required": ["segment"],
    "properties": {
        "segment": {
            "type": "string",
            "minLength": 1,
            "title": "Segment",
            "description": "The segment's name; may hold {{source@path}} placeholders.",
            "x-notation": "template",
        }
    },
}


class _SegmentAction(Action):
    group = "Segments"
    config_schema = _SCHEMA

    def setup(self) -> None:
        if not self.config["segment"].strip():
            raise ConfigError("segment: write the segment name")

    def segment_name(self, payload: Any, flow) -> str:
        name = notation.render_string(self.config["segment"], flow.data(payload), default="")
        name = segment_slug(name)
        if not name:
            raise ActionError(f"segment name {self.config['segment']!r} rendered empty")
        return name


class AddSegmentAction(_SegmentAction):
    id = "add_segment"
    name = "Add segment"
    description = "Adds the profile to a segment."
    docs = (
        "`segment`: the segment name; it may be a string template "
        "(`{{event@properties.category}}-buyers`). The profile's `segments` list gets its slug "
        "(lower case, spaces as `-`: `High value` is `high-value`) once. Segments defined in "
        "the admin with a condition are kept up to date by segmentation; others stay until a "
        "workflow removes them."
    )

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile("Add segment")
        name = self.segment_name(payload, flow)
        segments = profile.setdefault("segments", [])
        if name not in segments:
            profile["segments"] = [*segments, name]
        return Result("payload", payload)


class RemoveSegmentAction(_SegmentAction):
    id = "remove_segment"
    name = "Remove segment"
    description = "Takes the profile out of a segment."
    docs = (
        "`segment`: the segment name (a string template; its slug is removed). Nothing "
        "happens if the profile is not in it."
    )

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile("Remove segment")
        name = self.segment_name(payload, flow)
        segments = profile.get("segments") or []
        if name in segments:
            profile["segments"] = [segment for segment in segments if segment != name]
        return Result("payload", payload)


class AddSegmentIfAction(_SegmentAction):
    id = "add_segment_if"
    name = "Add segment if"
    description = "Adds the profile to a segment when a condition holds."
    docs = (
        "`segment`: the segment name; `condition`: logic notation over the profile, event, "
        "session or payload, e.g. `profile@stats.visits > 3`. When it holds the profile gets "
        "the segment's slug and the payload goes to `true`; otherwise to `false`."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "required": ["segment", "condition"],
        "properties": {
            **_SCHEMA["properties"],
            "condition": {
                "type": "string",
                "minLength": 1,
                "title": "Condition",
                "description": "The profile joins the segment when it holds, e.g. "
                "profile@stats.visits > 3.",
                "x-notation": "condition",
            },
        },
    }

    def setup(self) -> None:
        super().setup()
        compiled_condition(self.config["condition"], field="condition")

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile(self.name)
        added = segment_add_if(
            profile=profile,
            segment=self.segment_name(payload, flow),
            condition=self.config["condition"],
            data=flow.data(payload),
            history=flow.history,
        )
        return Result("true" if added else "false", payload)
