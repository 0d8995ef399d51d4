from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sources.models import (
    INTERNAL_SOURCE_DESCRIPTION,
    INTERNAL_SOURCE_ID,
    INTERNAL_SOURCE_NAME,
    EventSource,
    RedirectLink,
)


def event_source_create(
    *,
    name: str,
    bridge: str = EventSource.Bridge.REST,
    source_id: str | None = None,
    static_profile_ids: bool = False,
    transitional: bool = False,
    enabled: bool = True,
    config: dict | None = None,
    **details,
) -> EventSource:
    """A new source; `details` are its other fields (description, channel, tags,
    retention_days)."""
    config = dict(config or {})
    if static_profile_ids:
        config["static_profile_id"] = True
    source = EventSource(
        name=name,
        bridge=bridge,
        enabled=enabled,
        transitional=transitional,
        config=config,
        **details,
    )
    if source_id:
        source.id = source_id
    source.full_clean()
    try:
        # A savepoint, so that losing a race on the id leaves the caller's transaction usable.
        with transaction.atomic():
            source.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError(
            {"id": ValidationError("Event source with this Id already exists.", code="unique")}
        ) from exc
    return source


def event_source_update(*, source: EventSource, **fields) -> EventSource:
    """Change a source's fields (not its id: clients and links carry it); /track sees the
    change within the source cache's lifetime."""
    for name, value in fields.items():
        setattr(source, name, value)
    source.full_clean()
    source.save()
    return source


def event_source_delete(*, source: EventSource) -> None:
    """Delete a source that has no events or redirect links (ValidationError otherwise: its
    events keep their source; disable it instead)."""
    if source.events.exists() or source.redirect_links.exists():
        raise ValidationError(
            f"Event source {source.id!r} has stored events or redirect links, so it cannot be "
            "deleted; disable it instead (enabled: false)."
        )
    source.delete()


def event_source_ensure(*, source_id: str, name: str, bridge: str) -> tuple[EventSource, bool]:
    """Return the source with this id, creating it if missing; an existing one is left as is."""
    return EventSource.objects.get_or_create(
        id=source_id, defaults={"name": name, "bridge": bridge}
    )


def event_sources_set_enabled(*, source_ids: Iterable[str], enabled: bool) -> int:
    """Enable or disable sources; returns how many changed. /track sees it within the cache TTL."""
    return (
        EventSource.objects.filter(pk__in=list(source_ids))
        .exclude(enabled=enabled)
        .update(enabled=enabled, updated=timezone.now())
    )


def redirect_link_create(
    *,
    name: str,
    url: str,
    source: EventSource,
    event_type: str = "redirect",
    props: dict | None = None,
    link_id: str | None = None,
    **details,
) -> RedirectLink:
    if source.bridge != EventSource.Bridge.REDIRECT:
        raise ValidationError(
            {
                "source": ValidationError(
                    f"Event source {source.id!r} has bridge {source.bridge!r}; a redirect link "
                    f"needs a source whose bridge is {EventSource.Bridge.REDIRECT.value!r}.",
                    code="bridge",
                )
            }
        )
    link = RedirectLink(
        name=name, url=url, source=source, event_type=event_type, props=props or {}, **details
    )
    if link_id:
        link.id = link_id
    link.full_clean()
    link.save(force_insert=True)
    return link


def redirect_link_update(*, link: RedirectLink, **fields) -> RedirectLink:
    for name, value in fields.items():
        setattr(link, name, value)
    if link.source.bridge != EventSource.Bridge.REDIRECT:
        raise ValidationError(
            {"source": f"Event source {link.source.id!r} is not a redirect source."}
        )
    link.full_clean()
    link.save()
    return link


def internal_source_ensure() -> str:
    """The id of the internal system source, created if missing. One INSERT ... ON CONFLICT
    DO NOTHING: callers run it once per batch of system events."""
    now = timezone.now()
    EventSource.objects.bulk_create(
        [
            EventSource(
                id=INTERNAL_SOURCE_ID,
                name=INTERNAL_SOURCE_NAME,
                description=INTERNAL_SOURCE_DESCRIPTION,
                bridge=EventSource.Bridge.REST,
                enabled=False,
                created=now,
                updated=now,
            )
        ],
        ignore_conflicts=True,
    )
    return INTERNAL_SOURCE_ID
