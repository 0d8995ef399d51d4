"""Event reshaping at ingestion (Tracardi's event reshaping schemas; the model is
EventReshaping): before an event is validated, mapped or routed, the first enabled reshaping
of its type whose source and condition match rewrites its properties and context and completes
the session's context, each from an object template.

The reshapings come compiled from the per-process event type registry, so an event of a type
without one costs a dictionary look-up. A reshaping that fails on an event (a condition that
cannot be evaluated on it) leaves the event as sent and is said in the answer's warnings: an
event is never lost to a reshaping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from apps import notation

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledReshaping:
    name: str
    source_id: str | None
    condition: notation.Condition | None
    properties: dict | None
    context: dict | None
    session: dict | None


@dataclass(frozen=True, slots=True)
class Reshaped:
    """An event after reshaping (unchanged when `applied` is empty)."""

    properties: dict
    context: dict
    # Merged into the session's context (empty: nothing to merge).
    session_context: dict
    applied: str = ""
    warning: str = ""


def reshaping_compile(row) -> CompiledReshaping:
    condition = row.condition.strip()
    return CompiledReshaping(
        name=row.name,
        source_id=row.source_id,
        condition=notation.compile_condition(condition) if condition else None,
        properties=row.properties,
        context=row.context,
        session=row.session,
    )


def event_reshape(
    reshapings: tuple[CompiledReshaping, ...],
    *,
    event_type: str,
    source_id: str,
    properties: dict,
    context: dict,
    traits: dict,
    session_context: dict,
) -> Reshaped:
    """The event reshaped by the first of `reshapings` that matches."""
    unchanged = Reshaped(properties=properties, context=context, session_context={})
    data = {
        "event": {
            "type": event_type,
            "properties": properties,
            "context": context,
            "traits": traits,
            "source": {"id": source_id},
        },
        "session": {"context": session_context},
    }
    for reshaping in reshapings:
        if reshaping.source_id and reshaping.source_id != source_id:
            continue
        try:
            if reshaping.condition is not None and not reshaping.condition.evaluate(data):
                continue
            return Reshaped(
                properties=_render(reshaping.properties, data, properties),
                context=_render(reshaping.context, data, context),
                session_context=_render(reshaping.session, data, {}),
                applied=reshaping.name,
            )
        except notation.NotationError as error:
            logger.info("Reshaping %r skipped on a %s event: %s", reshaping.name, event_type, error)
            return Reshaped(
                properties=properties,
                context=context,
                session_context={},
                warning=f"Event reshaping '{reshaping.name}' could not run on a {event_type} "
                f"event ({error}); the event was stored as sent.",
            )
    return unchanged


def _render(template: dict | None, data: dict, unchanged: dict) -> Any:
    if template is None:
        return unchanged
    return notation.render_template(template, data, default=None)


def session_context_merge(context: dict, updates: list[dict]) -> dict:
    """The request's context with each reshaping's session part merged over it, in order (a
    new dict: the request's is left as it was)."""
    merged = context
    for update in updates:
        if update:
            merged = _merged(merged, update)
    return merged


def _merged(base: dict, extra: dict) -> dict:
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        result[key] = (
            _merged(current, value)
            if isinstance(value, dict) and isinstance(current, dict)
            else value
        )
    return result
