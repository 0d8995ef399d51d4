"""Adding a rule from the workflow editor: route an event type (from one source or any) here."""

from __future__ import annotations

from apps.core.text import normalise_event_type
from apps.sources.models import EventSource
from apps.workflows.models import Rule, Workflow

EVENT_TYPE_MAX_LENGTH = Rule._meta.get_field("event_type").max_length
NAME_MAX_LENGTH = Rule._meta.get_field("name").max_length


class RuleInputError(ValueError):
    """The event type, source or name cannot make a rule; nothing is stored."""


def workflow_rule_add(
    *, workflow: Workflow, event_type: object, source_id: object = None, name: object = None
) -> Rule:
    if not isinstance(event_type, str) or not normalise_event_type(event_type):
        raise RuleInputError("Write the event type, e.g. page-view.")
    event_type = normalise_event_type(event_type)
    if len(event_type) > EVENT_TYPE_MAX_LENGTH:
        raise RuleInputError(
            f"The event type is {len(event_type)} characters long; at most {EVENT_TYPE_MAX_LENGTH}."
        )
    source = None
    if source_id not in (None, ""):
        if not isinstance(source_id, str):
            raise RuleInputError("source_id must be the id of an event source, or null.")
        source = EventSource.objects.filter(pk=source_id).first()
        if source is None:
            raise RuleInputError(f"There is no event source with id {source_id!r}.")
    if name is not None and not isinstance(name, str):
        raise RuleInputError("name must be text.")
    name = (name or "").strip() or (
        f"{event_type} from {source.name if source else 'any source'} to {workflow.name}"
    )[:NAME_MAX_LENGTH]
    if len(name) > NAME_MAX_LENGTH:
        raise RuleInputError(f"The name is {len(name)} characters long; at most {NAME_MAX_LENGTH}.")
    return Rule.objects.create(
        name=name, event_type=event_type, source=source, workflow=workflow, enabled=True
    )
