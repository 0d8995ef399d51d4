"""Turning /collect webhooks and /redirect clicks into TrackRequests (DESIGN §4.3, §4.4)."""

from django.http import QueryDict

from apps.core.exceptions import PayloadInvalid
from apps.core.text import normalise_event_type
from apps.events.registry import mapped_profile_value
from apps.notation import NotationError, render_template, resolve
from apps.profiles.documents import session_document
from apps.profiles.models import Session
from apps.sources.models import EventSource, RedirectLink
from apps.tracking.limits import event_type_clean, id_clean
from apps.tracking.payload import TrackRequest, server_event
from apps.tracking.webhook_ids import HASHED_ID_PREFIXES, hashed_profile_id, sticky_session_id


def collect_request_build(
    *, source: EventSource, event_type: str, session_id: str | None, data: object
) -> TrackRequest:
    if not isinstance(data, dict):
        raise PayloadInvalid.schema(
            [{"loc": ["body"], "msg": "The body must be a JSON object.", "type": "type_error.dict"}]
        )
    normalised_type = event_type_clean(event_type, loc=["path", "event_type"])
    session_id = id_clean(session_id, loc=["path", "session_id"])
    profile_id = None
    replace_path = source.config.get("replace_profile_id")
    if replace_path:
        profile_id = _profile_id_from_body(replace_path, data)
    elif source.config.get("generate_profile"):
        profile_id = _hashed_profile_id(normalised_type, data)
        if profile_id and source.config.get("sticky_session", True):
            session_id = sticky_session_id(profile_id)
    profile_less = (
        session_id is None and not profile_id and not source.config.get("generate_profile")
    )
    return TrackRequest(
        source_id=source.pk,
        events=[server_event(normalised_type, data)],
        session_id=session_id,
        profile_id=profile_id,
        profile_less=profile_less,
        trust_profile_id=bool(profile_id),
    )


def _hashed_profile_id(event_type: str, data: dict) -> str | None:
    found = mapped_profile_value(
        event_type=event_type, event={"properties": data}, profile_paths=HASHED_ID_PREFIXES
    )
    if found is None:
        return None
    profile_path, value = found
    return hashed_profile_id(profile_path=profile_path, value=value)


def query_properties(query: QueryDict) -> dict:
    """A query string as Tracardi reads it (Python's parse_qs): a key given once is a value,
    a repeated key a list, and blank values are dropped."""
    properties: dict = {}
    for key, values in query.lists():
        kept = [value for value in values if value]
        if kept:
            properties[key] = kept[0] if len(kept) == 1 else kept
    return properties


def redirect_request_build(
    *, link: RedirectLink, session_id: str | None, params: dict, body: object = None
) -> TrackRequest:
    """`session_id` is already checked (apps.tracking.limits.id_clean): the path's or cookie's;
    `body` is the request's (POST, PUT, DELETE), for the props template as `payload.body`."""
    session = Session.objects.filter(pk=session_id).first() if session_id else None
    scope = {
        "payload": {"params": params, "body": {} if body is None else body},
        "session": session_document(session) if session else {},
    }
    try:
        properties = render_template(link.props, scope, default=None) if link.props else {}
    except NotationError as error:
        raise PayloadInvalid(
            f"Redirect link {link.pk} has props that cannot render: {error}"
        ) from None
    if not isinstance(properties, dict):
        properties = {"value": properties}
    # The link followed goes into the event's metadata: a prop of the link's own named `link`
    # stays the link's.
    event = server_event(
        normalise_event_type(link.event_type),
        properties,
        metadata={"link": {"id": link.pk, "url": link.url}},
    )
    return TrackRequest(
        source_id=link.source_id,
        events=[event],
        session_id=session_id,
        profile_less=session_id is None,
    )


def _profile_id_from_body(path: str, data: dict) -> str:
    reference = path if "@" in path else f"payload@{path}"
    try:
        value = resolve(reference, {"payload": data})
    except NotationError:
        value = None
    if value in (None, "") or isinstance(value, dict | list):
        raise PayloadInvalid.schema(
            [
                {
                    "loc": ["body", *path.split("@")[-1].split(".")],
                    "msg": f"This source takes the profile id from {path!r}; "
                    "the body has no usable value there.",
                    "type": "value_error.missing",
                }
            ]
        )
    return str(value)[:64]
