"""Scheduling deliveries: the debounced profile sync and the per-event delivery (DESIGN §9)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.destinations.models import Delivery, Destination
from apps.destinations.selectors import enabled_destinations_cached

MAX_FIELD_LENGTH = 300

# One statement per profile change, whatever the number of destinations. A profile change either
# creates the single pending row of (destination, profile) or, when one is waiting, pushes its
# due_at to `now + delay` but never past `latest_due_at` (first change + max delay) and adds the
# changed fields. A row waiting on a retry backoff (attempts > 0) is never brought forward.
# The conflict target is the partial unique index `delivery_one_pending_per_profile`, so there is
# no check-then-act: concurrent changes of one profile serialise on that index entry.
_PROFILE_UPSERT = """
INSERT INTO destinations_delivery AS d (
    id, destination_id, profile_id, event_id, status, is_test, due_at, first_change_at,
    latest_due_at, changed_fields, attempts, round_start_attempts, in_flight_attempt, recoveries,
    claimed_at, claim_token, payload, last_error, finished_at, created, updated
)
SELECT gen_random_uuid()::text, dest.id, p.id, NULL, 'pending', false,
       %(now)s + make_interval(secs => dest.delay_seconds), %(now)s,
       %(now)s + make_interval(secs => dest.max_delay_seconds), %(fields)s::varchar(300)[],
       0, 0, NULL, 0, NULL, '', NULL, '', NULL, %(now)s, %(now)s
FROM destinations_destination dest
JOIN profiles_profile p ON p.id = %(profile_id)s
WHERE dest.enabled AND dest.kind = 'profile'
ON CONFLICT (destination_id, profile_id) WHERE status = 'pending' AND event_id IS NULL
DO UPDATE SET
    due_at = CASE
        WHEN d.attempts > 0 THEN GREATEST(d.due_at, LEAST(EXCLUDED.due_at, d.latest_due_at))
        ELSE LEAST(EXCLUDED.due_at, d.latest_due_at)
    END,
    changed_fields = ARRAY(
        SELECT f FROM unnest(d.changed_fields || EXCLUDED.changed_fields)
            WITH ORDINALITY AS t(f, n)
        GROUP BY f ORDER BY min(n)
    ),
    updated = EXCLUDED.updated
"""

# Event deliveries are not debounced: one row per (destination, event), due after the
# destination's delay. Quarantined (invalid) events are not sent. ON CONFLICT makes a repeated
# hand-off (client retry) harmless.
_EVENT_INSERT = """
INSERT INTO destinations_delivery (
    id, destination_id, profile_id, event_id, status, is_test, due_at, first_change_at,
    latest_due_at, changed_fields, attempts, round_start_attempts, in_flight_attempt, recoveries,
    claimed_at, claim_token, payload, last_error, finished_at, created, updated
)
SELECT gen_random_uuid()::text, dest.id, e.profile_id, e.id, 'pending', false,
       %(now)s + make_interval(secs => dest.delay_seconds), %(now)s,
       %(now)s + make_interval(secs => dest.delay_seconds), '{}'::varchar(300)[],
       0, 0, NULL, 0, NULL, '', NULL, '', NULL, %(now)s, %(now)s
FROM destinations_destination dest
JOIN events_event e
  ON e.id = ANY(%(event_ids)s)
 AND e.status <> 'invalid'
 AND (dest.event_type = '' OR dest.event_type = e.type)
 AND (dest.source_id IS NULL OR dest.source_id = e.source_id)
WHERE dest.id = ANY(%(destination_ids)s) AND dest.enabled AND dest.kind = 'event'
ON CONFLICT (destination_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
"""


# A scheduled sync's members, a batch at a time, against the same partial unique index as the
# profile-change upsert above, so a member whose change sync is waiting is not queued twice: that
# pending row is linked to the run and due now (unless it waits on a retry backoff), and a
# pending removal of a member that came back becomes a sync again. RETURNING says which rows
# were inserted (xmax = 0) and which were already pending.
_SYNC_MEMBERS_UPSERT = """
INSERT INTO destinations_delivery AS d (
    id, destination_id, profile_id, event_id, status, is_test, due_at, first_change_at,
    latest_due_at, changed_fields, attempts, round_start_attempts, in_flight_attempt, recoveries,
    claimed_at, claim_token, payload, last_error, finished_at, created, updated,
    is_removal, removed_profile_id, sync_run_id
)
SELECT gen_random_uuid()::text, %(destination_id)s, p.id, NULL, 'pending', false,
       %(now)s, %(now)s, %(now)s, '{}'::varchar(300)[],
       0, 0, NULL, 0, NULL, '', NULL, '', NULL, %(now)s, %(now)s,
       %(removal)s, CASE WHEN %(removal)s THEN p.id ELSE '' END, %(run_id)s
FROM profiles_profile p
WHERE p.id = ANY(%(profile_ids)s)
ON CONFLICT (destination_id, profile_id) WHERE status = 'pending' AND event_id IS NULL
DO UPDATE SET
    due_at = CASE WHEN d.attempts > 0 THEN d.due_at ELSE LEAST(d.due_at, EXCLUDED.due_at) END,
    -- A recovered row resends its lost attempt under the same idempotency key; once it turns
    -- from a sync into a removal (or back) it is another message, so it takes a new attempt.
    in_flight_attempt = CASE
        WHEN d.is_removal = EXCLUDED.is_removal THEN d.in_flight_attempt
    END,
    is_removal = EXCLUDED.is_removal,
    removed_profile_id = EXCLUDED.removed_profile_id,
    sync_run_id = EXCLUDED.sync_run_id,
    updated = EXCLUDED.updated
RETURNING (xmax = 0) AS inserted
"""


def sync_deliveries_schedule(
    *,
    destination_id: str,
    run_id: str,
    profile_ids: Sequence[str],
    removal: bool = False,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Queue the sync (or, with `removal`, the removal) of a batch of profiles to one
    destination, due now, linked to the sync run. A pending delivery of (destination, profile)
    is reused, never doubled. Profiles that no longer exist are left out. Returns (inserted,
    already pending)."""
    if not profile_ids:
        return 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            _SYNC_MEMBERS_UPSERT,
            {
                "now": now or timezone.now(),
                "destination_id": destination_id,
                "run_id": run_id,
                "profile_ids": list(profile_ids),
                "removal": removal,
            },
        )
        rows = cursor.fetchall()
    inserted = sum(1 for (was_inserted,) in rows if was_inserted)
    return inserted, len(rows) - inserted


def profile_deliveries_schedule(
    *, profile_id: str, changed_fields: Sequence[str], now: datetime | None = None
) -> int:
    """Schedule (or push back) the sync of one changed profile to every enabled profile
    destination. Returns the number of rows inserted or updated. Costs no query when there is
    no enabled profile destination (per-process cache)."""
    if not enabled_destinations_cached(kind=Destination.Kind.PROFILE):
        return 0
    fields = list(dict.fromkeys(field[:MAX_FIELD_LENGTH] for field in changed_fields))
    with connection.cursor() as cursor:
        cursor.execute(
            _PROFILE_UPSERT,
            {"now": now or timezone.now(), "profile_id": profile_id, "fields": fields},
        )
        return cursor.rowcount


def event_deliveries_schedule(
    *,
    event_ids: Sequence[str],
    source_id: str,
    event_types: Collection[str],
    now: datetime | None = None,
) -> int:
    """One delivery per stored event that an enabled event destination matches (type and
    source). Called by the ingestion pipeline in its transaction, right after it writes the
    events, so the deliveries commit (or roll back) with them. Costs no query when no enabled
    event destination matches: the decision is made on the per-process cache first."""
    matching = event_destinations_matching(source_id=source_id, event_types=event_types)
    if not matching or not event_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENT_INSERT,
            {
                "now": now or timezone.now(),
                "event_ids": list(event_ids),
                "destination_ids": matching,
            },
        )
        return cursor.rowcount


def event_destinations_matching(*, source_id: str, event_types: Collection[str]) -> list[str]:
    """The ids of the enabled event destinations that events of these types from this source
    go to, from the per-process cache (no query)."""
    return [
        ref.id
        for ref in enabled_destinations_cached(kind=Destination.Kind.EVENT)
        if (ref.source_id is None or ref.source_id == source_id)
        and (not ref.event_type or ref.event_type in event_types)
    ]


def merged_profile_syncs_drop(merged_ids: list[str], survivor_id: str) -> None:
    """Before a merge re-points the merged profiles' deliveries: their pending syncs go, as the
    survivor's own sync (the merge is a change of it) supersedes them; the other deliveries are
    history and follow the survivor."""
    Delivery.objects.filter(
        profile_id__in=merged_ids, status=Delivery.Status.PENDING, event__isnull=True
    ).delete()
