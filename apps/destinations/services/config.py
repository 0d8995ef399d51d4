"""Creating and changing resources and destinations (validated as in the admin)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import transaction

from apps.destinations.models import Destination, Resource
from apps.destinations.selectors import enabled_destinations_cached
from apps.destinations.services.syncs import (
    destination_sync_schedule_apply,
    destination_sync_schedule_drop,
)


def resource_create(
    *,
    name: str,
    type: str,
    credentials: dict | None = None,
    test_credentials: dict | None = None,
    description: str = "",
) -> Resource:
    resource = Resource(
        name=name,
        type=type,
        credentials=credentials or {},
        test_credentials=test_credentials or {},
        description=description,
    )
    resource.full_clean()
    resource.save(force_insert=True)
    return resource


def resource_credentials_replace(*, resource: Resource, credentials: dict) -> Resource:
    resource.credentials = credentials
    resource.full_clean()
    resource.save(update_fields=["credentials", "updated"])
    return resource


def destination_create(
    *,
    name: str,
    resource: Resource,
    kind: str = Destination.Kind.PROFILE,
    condition: str = "",
    mapping: Any = None,
    settings: dict | None = None,
    delay_seconds: int = 20,
    max_delay_seconds: int = 60,
    enabled: bool = True,
    event_type: str = "",
    source_id: str | None = None,
    description: str = "",
    sync_segment_id: str | None = None,
    sync_every: str = "",
    sync_time: time | None = None,
    sync_interval_hours: int | None = None,
    sync_crontab: str = "",
    removal_mapping: Any = None,
) -> Destination:
    destination = Destination(
        name=name,
        resource=resource,
        kind=kind,
        condition=condition,
        mapping=mapping if mapping is not None else {},
        settings=settings or {},
        delay_seconds=delay_seconds,
        max_delay_seconds=max_delay_seconds,
        enabled=enabled,
        event_type=event_type,
        source_id=source_id,
        description=description,
        sync_segment_id=sync_segment_id,
        sync_every=sync_every,
        sync_time=sync_time,
        sync_interval_hours=sync_interval_hours,
        sync_crontab=sync_crontab,
        removal_mapping=removal_mapping if removal_mapping is not None else {},
    )
    destination.full_clean()
    with transaction.atomic():
        destination.save(force_insert=True)
        destination_sync_schedule_apply(destination=destination)
    # This process sees the new destination at once; others within CDP_DESTINATION_CACHE_SECONDS.
    enabled_destinations_cached.cache_clear()
    return destination


def destination_update(*, destination: Destination, **fields: Any) -> Destination:
    for name, value in fields.items():
        setattr(destination, name, value)
    destination.full_clean()
    with transaction.atomic():
        destination.save()
        destination_sync_schedule_apply(destination=destination)
    enabled_destinations_cached.cache_clear()
    return destination


def destination_delete(*, destination: Destination) -> None:
    """Delete a destination with its deliveries, sync runs and scheduled sync's beat entry."""
    with transaction.atomic():
        destination_id = destination.pk
        destination.delete()
        destination_sync_schedule_drop(destination_id=destination_id)
    enabled_destinations_cached.cache_clear()
