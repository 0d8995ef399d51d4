"""Checks and moves on the run's profile: has segment, move segment, is it a new profile, is
it a new visit (Tracardi's segmentation.has, segmentation.move, new_profile_action,
new_visit_action).

"New" means created by the request that sent this event: the pipeline stamps the profile's and
the session's `metadata.time.insert` and the event's with the same instant.
"""

from __future__ import annotations

from typing import Any

from apps.core.text import segment_slug
from apps.workflows.actions.base import Action, ConfigError, Result, compiled_condition

_SEGMENT = {
    "type": "string",
    "minLength": 1,
    "title": "Segment",
    "description": "The segment's name, e.g. High value (its slug high-value also works).",
}


def _slug(config: dict, key: str) -> str:
    slug = segment_slug(config[key])
    if not slug:
        raise ConfigError(f"{key}: write the segment name")
    return slug


class HasSegmentAction(Action):
    id = "has_segment"
    name = "Has segment"
    group = "Segments"
    description = "Routes by whether the profile is in a segment."
    docs = (
        "`segment`: the segment's name (`High value` and `high-value` are the same segment). "
        "The payload goes to `true` when the profile is in it, to `false` otherwise (also "
        "when the event has no profile)."
    )
    outputs = ("true", "false")
    config_schema = {"type": "object", "required": ["segment"], "properties": {"segment": _SEGMENT}}

    def setup(self) -> None:
        self.segment = _slug(self.config, "segment")

    def run(self, payload: Any, flow) -> Result:
        if flow.profile is None:
            flow.log("warning", "This event has no profile, so it is in no segment.")
            return Result("false", payload)
        inside = self.segment in (flow.profile.get("segments") or [])
        return Result("true" if inside else "false", payload)


class MoveSegmentAction(Action):
    id = "move_segment"
    name = "Move segment"
    group = "Segments"
    description = "Takes the profile out of one segment and puts it into another."
    docs = (
        "`from_segment`: the segment to leave (nothing happens if the profile is not in it); "
        "`to_segment`: the segment to join. E.g. from `trial` to `customer`. The payload "
        "passes unchanged; an event without a profile is left alone, with a warning in the "
        "run log."
    )
    config_schema = {
        "type": "object",
        "required": ["from_segment", "to_segment"],
        "properties": {
            "from_segment": _SEGMENT | {"title": "From segment"},
            "to_segment": _SEGMENT | {"title": "To segment"},
        },
    }

    def setup(self) -> None:
        self.source = _slug(self.config, "from_segment")
        self.destination = _slug(self.config, "to_segment")

    def run(self, payload: Any, flow) -> Result:
        if flow.profile is None:
            flow.log("warning", "This event has no profile; no segment was moved.")
            return Result("payload", payload)
        segments = [s for s in flow.profile.get("segments") or [] if s != self.source]
        if self.destination not in segments:
            segments.append(self.destination)
        flow.profile["segments"] = segments
        return Result("payload", payload)


_SEGMENT_ACTIONS = {
    "enum": ["add", "remove", "none"],
    "title": "Then",
    "description": "add: join the segment; remove: leave it; none: leave segments alone.",
}


class ConditionalSegmentAction(Action):
    id = "conditional_segment"
    name = "Conditional segmentation"
    group = "Segments"
    description = "Adds or removes a segment by a condition, one way when it holds, another not."
    docs = (
        "`condition`: logic notation, e.g. `profile@stats.visits > 10`. When it holds, "
        "`true_action` (add, remove or none) is done with `true_segment` and the payload goes "
        "to `true`; otherwise `false_action` with `false_segment`, and the payload goes to "
        "`false`. E.g. add `loyal` when it holds and remove `loyal` when not; a side with no "
        "segment changes nothing. An event without a profile goes to `false` and changes "
        "nothing."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "required": ["condition"],
        "properties": {
            "condition": {
                "type": "string",
                "minLength": 1,
                "title": "Condition",
                "description": "e.g. profile@stats.visits > 10",
                "x-notation": "condition",
            },
            "true_segment": _SEGMENT | {"title": "Segment when it holds", "minLength": 0},
            "true_action": _SEGMENT_ACTIONS | {"default": "add"},
            "false_segment": _SEGMENT | {"title": "Segment when it does not", "minLength": 0},
            "false_action": _SEGMENT_ACTIONS | {"default": "remove"},
        },
    }

    def setup(self) -> None:
        self.condition = compiled_condition(self.config["condition"], field="condition")
        self.changes = {}
        for side in ("true", "false"):
            segment = segment_slug(self.config.get(f"{side}_segment") or "")
            # No segment named on a side: nothing to do there (Tracardi's default false side).
            self.changes[side] = (self.config[f"{side}_action"] if segment else "none", segment)
        if self.changes["true"][0] == self.changes["false"][0] == "none":
            raise ConfigError("true_segment: name a segment to add or remove on at least one side")

    def run(self, payload: Any, flow) -> Result:
        if flow.profile is None:
            flow.log("warning", "This event has no profile; no segment was changed.")
            return Result("false", payload)
        side = "true" if self.condition.evaluate(flow.data(payload)) else "false"
        action, segment = self.changes[side]
        segments = list(flow.profile.get("segments") or [])
        if action == "add" and segment not in segments:
            flow.profile["segments"] = [*segments, segment]
        elif action == "remove" and segment in segments:
            flow.profile["segments"] = [s for s in segments if s != segment]
        return Result(side, payload)


def _inserted(document: Any) -> Any:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    time = metadata.get("time") if isinstance(metadata, dict) else None
    return time.get("insert") if isinstance(time, dict) else None


def _same_request(document: Any, flow) -> bool:
    inserted = _inserted(document)
    return inserted is not None and inserted == _inserted(flow.event)


class NewProfileAction(Action):
    id = "new_profile"
    name = "Is it a new profile"
    group = "Profiles"
    description = "Routes by whether this event's request created the profile."
    docs = (
        "The payload goes to `true` when the profile was created by the request that sent "
        "this event (a first visit), to `false` for a known profile or an event without one."
    )
    outputs = ("true", "false")

    def run(self, payload: Any, flow) -> Result:
        return Result("true" if _same_request(flow.profile, flow) else "false", payload)


class NewVisitAction(Action):
    id = "new_visit"
    name = "Is it a new visit"
    group = "Profiles"
    description = "Routes by whether this event's request opened the session."
    docs = (
        "The payload goes to `true` when the session was opened by the request that sent "
        "this event (the first event of a visit), to `false` otherwise or without a session."
    )
    outputs = ("true", "false")

    def run(self, payload: Any, flow) -> Result:
        return Result("true" if _same_request(flow.session, flow) else "false", payload)
