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
    source.save(force_insert=True)
    return source


def redirect_link_create(
    *,
    name: str,
    url: str,
    source: EventSource,
    event_type: str = "redirect",
    props: dict | None = None,
    link_id: str | None = None,
) -> RedirectLink:
    link = RedirectLink(name=name, url=url, source=source, event_type=event_type, props=props or {})
    if link_id:
        link.id = link_id
    link.full_clean()
    link.save(force_insert=True)
    return link
