"""Paths into an event, as event type mappings and identification points name them."""

from .dot import Reference, parse_reference
from .errors import NotationError

# Sources an event path may name explicitly (`session@context.browser`); default `event@`.
READABLE_SOURCES = ("event", "session", "profile")


class EventPathError(ValueError):
    pass


def event_reference_parse(path: str) -> Reference:
    """`properties.email` -> event@properties.email; `session@...` and `profile@...` as given."""
    text = path.strip()
    if not text:
        raise EventPathError("Enter a path into the event, e.g. properties.email.")
    source, separator, _ = text.partition("@")
    if separator and source not in READABLE_SOURCES:
        raise EventPathError(
            f"Unknown source {source!r}: read from event@, session@ or profile@ "
            "(a path without a source reads the event)."
        )
    try:
        reference = parse_reference(text if separator else "event@" + text)
    except NotationError as error:
        raise EventPathError(str(error)) from None
    if reference is None or not reference.keys:
        raise EventPathError(f"{text!r} is not a path, e.g. properties.email.")
    return reference
