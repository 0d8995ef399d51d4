"""Forwarding an erasure to the destinations that support deletion: each enabled destination
with `forward_erasures` (webhook resources only) gets one deletion request, recorded as a
Delivery, so it is claimed, sent, retried and shown like any other delivery (DESIGN §9).

The contract (webhook): the destination's URL, method, headers and credentials, the usual
envelope `{"data": ..., "changes": []}` and `Idempotency-Key` header, with

    data = {"action": "delete", "profile_ids": ["<id>", "<merged id>", ...],
            "erasure_id": "<erasure record id>"}

The receiver deletes what it holds under any of those profile ids and answers 2xx; a 5xx, 429
or network error is retried like any delivery. The destination's condition and mapping are not
applied: they read the profile, which is gone.
"""

from __future__ import annotations

from django.utils import timezone

from apps.destinations.models import Delivery, Destination, Resource


def deletion_request_payload(*, erasure_id: str, profile_ids: list[str]) -> dict:
    return {"action": "delete", "profile_ids": list(profile_ids), "erasure_id": erasure_id}


def erasure_deletion_requests_record(erasure_id: str, profile_ids: list[str]) -> int:
    """Record a due deletion request for every destination that forwards erasures, inside the
    erasure's last transaction; returns how many. One per (destination, erasure): recording
    again adds none."""
    now = timezone.now()
    destinations = Destination.objects.filter(
        enabled=True, forward_erasures=True, resource__type=Resource.Type.WEBHOOK
    ).values_list("pk", flat=True)
    payload = deletion_request_payload(erasure_id=erasure_id, profile_ids=profile_ids)
    requests = [
        Delivery(
            destination_id=destination_id,
            erasure_id=erasure_id,
            payload=payload,
            due_at=now,
            first_change_at=now,
            latest_due_at=now,
            created=now,
            updated=now,
        )
        for destination_id in destinations
    ]
    created = Delivery.objects.bulk_create(requests, ignore_conflicts=True)
    return len(created)
