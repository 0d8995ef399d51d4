"""Reads for destinations: the per-process cache of enabled destinations, the documents that
mappings render over (the profile and event documents shared with workflows and segments), and
the health figures shown in the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps import notation
from apps.core.caches import process_cached
from apps.destinations.models import (
    Delivery,
    DeliveryAttempt,
    Destination,
    DestinationSyncRun,
    Resource,
)
from apps.events.documents import event_document
from apps.profiles.documents import profile_document
from apps.profiles.models import Profile


@dataclass(frozen=True, slots=True)
class DestinationRef:
    id: str
    kind: str
    event_type: str
    source_id: str | None


# profile_changed and every /track request ask which destinations are enabled, and with no
# destination of a kind they must cost no query. A destination added in the admin starts within
# CDP_DESTINATION_CACHE_SECONDS.
@process_cached(ttl_setting="CDP_DESTINATION_CACHE_SECONDS")
def enabled_destinations_cached(*, kind: str) -> tuple[DestinationRef, ...]:
    return tuple(
        DestinationRef(id=row[0], kind=kind, event_type=row[1], source_id=row[2])
        for row in Destination.objects.filter(enabled=True, kind=kind).values_list(
            "id", "event_type", "source_id"
        )
    )


def delivery_documents(delivery: Delivery) -> dict[str, Any] | None:
    """The notation data for a delivery: {"profile": ...} or {"event": ..., "profile": ...};
    None when what it was about is gone. The dispatcher loads the delivery with its profile and
    event (select_related), so this costs no query there."""
    try:
        profile = delivery.profile if delivery.profile_id else None
        event = delivery.event if delivery.event_id else None
    except ObjectDoesNotExist:
        return None
    if delivery.event_id:
        return {
            "event": event_document(event),
            "profile": profile_document(profile) if profile else {},
        }
    return {"profile": profile_document(profile)} if profile else None


def destinations_with_due_deliveries(*, now: datetime) -> list[str]:
    """Enabled destinations that have pending deliveries due (one index probe each)."""
    due = Delivery.objects.filter(
        destination=OuterRef("pk"), status=Delivery.Status.PENDING, due_at__lte=now
    )
    return list(
        Destination.objects.filter(enabled=True).filter(Exists(due)).values_list("id", flat=True)
    )


HEALTH_WINDOW = timedelta(hours=24)


def _delivery_count(**filters: Any) -> Coalesce:
    counted = (
        Delivery.objects.filter(destination=OuterRef("pk"), is_test=False, **filters)
        .order_by()
        .values("destination")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def destinations_with_health(
    queryset: QuerySet[Destination], *, now: datetime
) -> QuerySet[Destination]:
    """Annotate each destination with its health line: sent and failed in the last 24 hours,
    pending (or sending) now, and the last error of an attempt.

    Each figure is an index range scan per destination (the (destination, status, finished_at)
    index, the pending partial index, the attempts' error partial index), so the cost follows
    the last day's volume, not the size of the deliveries table.
    """
    since = now - HEALTH_WINDOW
    latest_error = DeliveryAttempt.objects.filter(
        ~Q(error=""), destination=OuterRef("pk"), is_test=False
    ).order_by("-started")
    return queryset.annotate(
        sent_24h=_delivery_count(status=Delivery.Status.SENT, finished_at__gte=since),
        failed_24h=_delivery_count(status=Delivery.Status.FAILED, finished_at__gte=since),
        pending_now=_delivery_count(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]),
        last_error=Subquery(latest_error.values("error")[:1]),
        last_error_at=Subquery(latest_error.values("started")[:1]),
    )


def profile_deliveries_to_erase(profile_id: str, ids: list[str]) -> list[QuerySet[Delivery]]:
    """What an erasure of the profile deletes of the deliveries by itself: its syncs and sends
    (through the (profile, -created) index). The sends of the events it erases go with each
    batch of those events (`event_deliveries_to_erase`)."""
    # Ordered as the index, so that a batch walks it (see profile_events_to_erase).
    return [Delivery.objects.filter(profile_id=profile_id).order_by("-created")]


def event_deliveries_to_erase(event_ids: list[str]) -> QuerySet[Delivery]:
    """The deliveries of a batch of erased events (through the event index)."""
    return Delivery.objects.filter(event_id__in=event_ids)


def attempts_to_purge(*, before: datetime) -> QuerySet[DeliveryAttempt]:
    """Delivery attempts started before `before` (the retention purge), oldest first through
    the (started) index. The deliveries stay: their status is the record of the sync."""
    return DeliveryAttempt.objects.filter(started__lt=before).order_by("started")


def _run_delivery_count(*statuses: str) -> Coalesce:
    counted = (
        Delivery.objects.filter(sync_run=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("sync_run")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def sync_runs_with_deliveries(
    queryset: QuerySet[DestinationSyncRun],
) -> QuerySet[DestinationSyncRun]:
    """Annotate sync runs with how their deliveries went so far: sent, failed, skipped and
    waiting (pending or sending); each an index range scan of (sync_run, status)."""
    S = Delivery.Status
    return queryset.annotate(
        deliveries_sent=_run_delivery_count(S.SENT),
        deliveries_failed=_run_delivery_count(S.FAILED),
        deliveries_skipped=_run_delivery_count(S.SKIPPED),
        deliveries_waiting=_run_delivery_count(S.PENDING, S.SENDING),
    )


def mapping_preview(*, mapping: Any, profile_id: str = "") -> tuple[str, Any]:
    """What a destination with `mapping` would send for a profile (by id, or a merged id; the
    most recently updated one when `profile_id` is empty): (profile id, payload). Raises
    LookupError when there is no such profile, and the notation's errors for a mapping that
    does not render. Event references render as null: no event is at hand."""
    profiles = Profile.objects.order_by("-updated")
    if profile_id:
        profiles = profiles.filter(Q(pk=profile_id) | Q(ids__contains=[profile_id]))
    profile = profiles.first()
    if profile is None:
        raise LookupError(
            f"No profile has the id {profile_id}." if profile_id else "There is no profile yet."
        )
    data = {"profile": profile_document(profile), "event": {}}
    if mapping in ({}, [], "", None):
        return profile.pk, data
    return profile.pk, notation.render_template(mapping, data, default=None)


def resource_for_action(resource_id: str) -> Resource | None:
    """The resource a workflow action calls through (with both credential sets)."""
    return (
        Resource.objects.filter(pk=resource_id)
        .only("id", "name", "type", "credentials", "test_credentials")
        .first()
    )


def resource_type_of(resource_id: str) -> str | None:
    return Resource.objects.filter(pk=resource_id).values_list("type", flat=True).first()


def resources_of_types(types: list[str] | tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(id, name, type) of every resource of these types, by name: a picker's choices."""
    return list(
        Resource.objects.filter(type__in=list(types))
        .order_by("name")
        .values_list("id", "name", "type")
    )
