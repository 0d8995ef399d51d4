"""Segment triggers (issue 18 item 3): each segment entry or exit becomes a `segment-entered` /
`segment-left` system event, so rules can route "profile entered segment X" to a workflow.

The subscriber of the profiles' "segment transitions" hook (registered in TrackingConfig.ready)
runs inside the transaction that recorded the transitions, whoever the writer: live
segmentation, an evaluation sweep, a workflow, a merge. Per transition it stores one event:

- id: derived from the SegmentTransition row id (uuid5), so a transition gives exactly one
  event; the insert skips an id already stored;
- source: the internal system source (apps.sources INTERNAL_SOURCE_ID), profile: the one that
  moved, no session, time: the transition's;
- properties: {"segment": {"id", "name", "slug"}, "cause": "live" | "sweep" | "workflow" |
  "merge"} (id is "" for a slug no Segment row defines, added by a workflow);
- status `collected` when a rule (or mapping, identification point) wants it, else
  `processed`. The collected ones go to the workers through the hand-off once the writer
  commits (the hand-off is the sanctioned sender for stored routed events, as for /track; the
  requeue sweep covers a lost message). Profiles sits below tracking and has half a dozen
  writers, so the events are stored here rather than returned through each of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.services.segment_history import Transition
from apps.sources.services import internal_source_ensure
from apps.tracking.handoff import events_enqueue
from apps.tracking.routing import event_needs_processing

_TRANSITION_EVENT_IDS = uuid.UUID("0b8d6a52-3f61-4a8e-b7c4-5e2a9d1c7f30")

# One row per event with its own profile (a sweep batch moves hundreds of profiles at once).
_EVENTS_INSERT = f"""
INSERT INTO {Event._meta.db_table}
    (id, type, source_id, profile_id, session_id, time, inserted, status, status_message,
     is_bot, properties, context, traits, metadata, request, tags)
SELECT e->>'id', e->>'type', %(source_id)s, e->>'profile_id', NULL,
       (e->>'time')::timestamptz, %(inserted)s, e->>'status', '',
       false, e->'properties', '{{}}'::jsonb, '{{}}'::jsonb, e->'metadata', '{{}}'::jsonb,
       '{{"values": [], "count": 0}}'::jsonb
FROM jsonb_array_elements(%(events)s::jsonb) AS e
ON CONFLICT DO NOTHING
"""


def transition_event_id(transition_id: int) -> str:
    return str(uuid.uuid5(_TRANSITION_EVENT_IDS, f"segment-transition:{transition_id}"))


def segment_transition_events_store(*, transitions: Sequence[Transition]) -> list[str]:
    """Store the system events of `transitions` (the hook's subscriber); returns their ids."""
    if not transitions:
        return []
    source_id = internal_source_ensure()
    now = timezone.now()
    routed = {
        event_type: event_needs_processing(source_id=source_id, event_type=event_type)
        for event_type in {transition.event_type for transition in transitions}
    }
    documents = []
    waiting: dict[str, list[str]] = {}
    for transition in transitions:
        event_id = transition_event_id(transition.id)
        status = Event.Status.COLLECTED if routed[transition.event_type] else Event.Status.PROCESSED
        at = transition.at.isoformat()
        documents.append(
            {
                "id": event_id,
                "type": transition.event_type,
                "profile_id": transition.profile_id,
                "time": at,
                "status": status.value,
                "properties": {
                    "segment": {
                        "id": transition.segment_id,
                        "name": transition.segment_name,
                        "slug": transition.segment,
                    },
                    "cause": transition.cause,
                },
                "metadata": {
                    "channel": "",
                    "profile_less": False,
                    "profile_id": transition.profile_id,
                    "time": {"insert": now.isoformat(), "create": at},
                },
            }
        )
        if routed[transition.event_type]:
            waiting.setdefault(transition.profile_id, []).append(event_id)
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS_INSERT,
            {"events": orjson.dumps(documents).decode(), "source_id": source_id, "inserted": now},
        )
    for profile_id, event_ids in waiting.items():
        events_enqueue(event_ids=event_ids, profile_id=profile_id)
    return [document["id"] for document in documents]
