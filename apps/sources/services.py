from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sources.models import EventSource, RedirectLink


def event_source_create(
    *,
    name: str,
    bridge: str = EventSource.Bridge.REST,
    source_id: str | None = None,
    static_profile_ids: bool = False,
    transitional: bool = False,
    enabled: bool = True,
    config: dict | None = None,
) -> EventSource:
    config = dict(config or {})
    if static_profile_ids:
        config["static_profile_id"] = True
    source = EventSource(
        name=name, bridge=bridge, enabled=enabled, transitional=transitional, config=config
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
    link = RedirectLink(name=name, url=url, source=source, event_type=event_type, props=props or {})
    if link_id:
        link.id = link_id
    link.full_clean()
    link.save(force_insert=True)
    return link
