"""Segments: add the profile to a segment, or take it out."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result

_SCHEMA = {
    "type": "object",
    "required": ["segment"],
    "properties": {"segment": {"type": "string", "minLength": 1}},
}


class _SegmentAction(Action):
    group = "Segments"
    config_schema = _SCHEMA

    def setup(self) -> None:
        if not self.config["segment"].strip():
            raise ConfigError("segment: write the segment name")

    def segment_name(self, payload: Any, flow) -> str:
        name = notation.render_string(self.config["segment"], flow.data(payload), default="")
        name = name.strip()
        if not name:
            raise ActionError(f"segment name {self.config['segment']!r} rendered empty")
        return name


class AddSegmentAction(_SegmentAction):
    id = "add_segment"
    name = "Add segment"
    description = "Adds the profile to a segment."
    docs = (
        "`segment`: the segment name; it may be a string template "
        "(`{{event@properties.category}}-buyers`). The profile's `segments` list gets the name "
        "once. Live segmentation may later recompute segments defined by conditions."
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
    docs = "`segment`: the segment name (a string template). Nothing happens if it is not there."

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile("Remove segment")
        name = self.segment_name(payload, flow)
        segments = profile.get("segments") or []
        if name in segments:
            profile["segments"] = [segment for segment in segments if segment != name]
        return Result("payload", payload)
