"""Spelling rules for names stored as keys."""


def dashed_lower(name: str) -> str:
    """Lower case, runs of whitespace as one '-': "Page View " -> "page-view"."""
    return "-".join(name.strip().lower().split())


def normalise_event_type(raw: str) -> str:
    """The stored form of an event type (e.g. "Page View" -> "page-view")."""
    return dashed_lower(raw)


def segment_slug(name: str) -> str:
    """The key of a segment in `Profile.segments`: its name spelled as event types are."""
    return dashed_lower(name)
