"""The hand-off point between ingestion (apps.tracking) and workflows (DESIGN §6).

The ingestion pipeline asks `event_is_routed` for each event while it builds the rows (routed
events are stored `collected`, the others `processed`), and after the ingest transaction commits
it calls `events_enqueue` with the routed events. Until rules exist nothing is routed.
"""

from collections.abc import Sequence


def event_is_routed(*, source_id: str, event_type: str) -> bool:
    return False


def events_enqueue(*, event_ids: Sequence[str], profile_id: str | None) -> None:
    """Called on commit with the stored, routed events of one request (one profile)."""


def unsaved_events_enqueue(*, events: Sequence[dict], profile_id: str | None) -> None:
    """Called on commit with routed events that were not stored (ephemeral source or
    saveEvents=false): workflows still run on them, from the message's copy of the event."""
