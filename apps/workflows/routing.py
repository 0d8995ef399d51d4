"""The hand-off point between ingestion (apps.tracking) and workflows (DESIGN §6).

The ingestion pipeline asks `event_is_routed` for each event while it builds the rows (routed
events are stored `collected`, the others `processed`); it is a lookup in an in-process table
of enabled rules (selectors.routing_table), no query per event. After the ingest transaction
commits it calls `events_enqueue` with the routed events of the request, and
`unsaved_events_enqueue` with routed events that were not stored.
"""

from collections.abc import Sequence

from django.db import transaction

from apps.workflows.selectors import routing_table


def event_is_routed(*, source_id: str, event_type: str) -> bool:
    return routing_table().routes(source_id, event_type)


def events_enqueue(*, event_ids: Sequence[str], profile_id: str | None) -> None:
    """Called on commit with the stored, routed events of one request (one profile).

    A profile's task processes all its collected events, so the ids only matter for
    profile-less events. Safe inside a transaction too: the message leaves on commit.
    """
    from apps.workflows.tasks import process_events, process_profile_events

    if not event_ids:
        return
    if profile_id:
        transaction.on_commit(lambda: process_profile_events.delay(profile_id))
    else:
        ids = list(event_ids)
        transaction.on_commit(lambda: process_events.delay(ids))


def unsaved_events_enqueue(*, events: Sequence[dict], profile_id: str | None) -> None:
    """Called on commit with routed events that were not stored (ephemeral source or
    saveEvents=false): workflows still run on them, from the message's copy of the event."""
    from apps.workflows.tasks import process_unsaved_events

    if not events:
        return
    copies = list(events)
    transaction.on_commit(lambda: process_unsaved_events.delay(copies, profile_id))
