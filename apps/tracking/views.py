"""Tracardi-compatible tracking endpoints: /track, /collect, /redirect (DESIGN §4).

Each view: read the body within the size limit, parse, authenticate the source for this
endpoint's bridge, call the pipeline, answer. Errors are {"detail": ...} (apps.core.exceptions).
"""

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from apps.core.exceptions import AccessDenied, NotFound, PayloadTooLarge
from apps.sources.models import EventSource, RedirectLink
from apps.sources.selectors import event_source_get_cached
from apps.tracking.collect import (
    collect_request_build,
    query_properties,
    redirect_request_build,
)
from apps.tracking.limits import id_clean, json_value_check, text_check
from apps.tracking.payload import TrackRequest, parse_json_body, tracker_payload_parse
from apps.tracking.pipeline import ClientInfo, track_ingest
from apps.tracking.ratelimit import request_rate_check

# Request headers never copied onto stored events.
PRIVATE_HEADERS = {"authorization", "cookie"}
SESSION_COOKIE = "tracardi-session-id"


class TrackingView(APIView):
    """A DRF view in name (the API schema and the error answers are DRF's), answering its
    methods from Django's own request.

    DRF's dispatch (its Request, content negotiation, authentication, permission and throttle
    checks) cost /track about a tenth of its Python time (bench/track_profile.py) and did
    nothing for it: these endpoints have no authentication, allow anyone, read the body
    themselves and answer JSON built by hand. So the handlers get the HttpRequest; an
    exception becomes DRF's answer as DRF's dispatch would render it, the same bytes and
    headers; methods without a handler (OPTIONS, and the 405s) take DRF's whole dispatch."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # The body is read raw: JSON with no Content-Type must be accepted (Tracardi's Python client).
    parser_classes: list = []

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        handler = getattr(self, method, None) if method in self.http_method_names else None
        if handler is None or method == "options":
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        self.format_kwarg = None
        self.headers = self.default_response_headers
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - answered as DRF answers it, or re-raised
            return self.error_response(request, exc)
        return self.finalize_response(request, response, *args, **kwargs)

    def error_response(self, request, exc: Exception):
        """The answer DRF's dispatch gives for `exc` (apps.core.exceptions' handler), always
        as JSON; re-raised when no handler answers it (a 500). DRF chose the renderer by the
        Accept header, and its HTML one failed on these parser-less views (a 500 instead of
        the error for a client asking for text/html)."""
        drf_request = self.initialize_request(request, *self.args, **self.kwargs)
        self.request = drf_request
        drf_request.accepted_renderer = JSONRenderer()
        drf_request.accepted_media_type = JSONRenderer.media_type
        response = self.handle_exception(exc)
        return self.finalize_response(drf_request, response, *self.args, **self.kwargs)

    def read_body(self, request) -> bytes:
        limit = settings.CDP_TRACK_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.")
        try:
            body = request.body
        except RequestDataTooBig:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.") from None
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes.")
        return body


def json_response(answer: dict | None, track: TrackRequest) -> HttpResponse:
    # An empty events list answers 200 with the body `null`, as Tracardi does.
    if answer is not None:
        answer["warnings"] = [*answer["warnings"], *track.warnings]
    return HttpResponse(orjson.dumps(answer), content_type="application/json")


def source_authenticate(*, source_id: str, bridge: str) -> EventSource:
    source = event_source_get_cached(source_id=source_id)
    if source is None:
        raise AccessDenied("Access denied. Invalid source.")
    if not source.enabled:
        raise AccessDenied(f"Access denied. Event source {source_id} is disabled.")
    if source.bridge != bridge:
        raise AccessDenied(
            f"Access denied. Event source {source_id} is a {source.bridge} source; "
            f"this endpoint needs a {bridge} source."
        )
    return source


def client_info(request) -> ClientInfo:
    meta = request.META
    headers = {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() not in PRIVATE_HEADERS
    }
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    ip = forwarded.split(",")[0].strip() if forwarded else meta.get("REMOTE_ADDR")
    return ClientInfo(ip=ip, user_agent=meta.get("HTTP_USER_AGENT", ""), headers=headers)


class TrackView(TrackingView):
    def post(self, request):
        body = self.read_body(request)
        profile_less = request.GET.get("profile_less", "").lower() == "true"
        track = tracker_payload_parse(parse_json_body(body), profile_less=profile_less)
        source = source_authenticate(source_id=track.source_id, bridge=EventSource.Bridge.REST)
        request_rate_check(source=source, request=request)
        answer = track_ingest(track=track, source=source, client=client_info(request))
        return json_response(answer, track)


class CollectView(TrackingView):
    def get(self, request, event_type: str, source_id: str, session_id: str | None = None):
        query = query_properties(request.GET)
        json_value_check(query, loc=["query"])
        return self._collect(request, event_type, source_id, session_id, query)

    def post(self, request, event_type: str, source_id: str, session_id: str | None = None):
        body = self.read_body(request)
        data = request_body_data(request, body)
        if data is None:
            data = parse_json_body(body)
        return self._collect(request, event_type, source_id, session_id, data)

    def _collect(self, request, event_type, source_id, session_id, data):
        source_id = text_check(source_id, loc=["path", "source_id"]).strip()
        source = source_authenticate(source_id=source_id, bridge=EventSource.Bridge.WEBHOOK)
        request_rate_check(source=source, request=request)
        track = collect_request_build(
            source=source, event_type=event_type, session_id=session_id, data=data
        )
        answer = track_ingest(track=track, source=source, client=client_info(request))
        return json_response(answer, track)


class RedirectView(TrackingView):
    """GET, POST, PUT and DELETE all track and answer 307 (as Tracardi); the body of the
    others is `payload.body` for the link's props template."""

    def get(self, request, link_id: str, session_id: str | None = None):
        return self._redirect(request, link_id, session_id, body=None)

    def post(self, request, link_id: str, session_id: str | None = None):
        body = self.read_body(request)
        data = request_body_data(request, body)
        if data is None:
            data = parse_json_body(body)
        return self._redirect(request, link_id, session_id, body=data)

    put = post
    delete = post

    def _redirect(self, request, link_id: str, session_id: str | None, *, body: object):
        text_check(link_id, loc=["path", "link_id"])
        if session_id is not None:
            session_id = id_clean(session_id, loc=["path", "session_id"])
        else:
            session_id = id_clean(
                request.COOKIES.get(SESSION_COOKIE), loc=["cookie", SESSION_COOKIE]
            )
        params = dict(request.GET.items())
        json_value_check(params, loc=["query"])
        link = RedirectLink.objects.filter(pk=link_id).select_related("source").first()
        if link is None:
            raise NotFound(f"No redirect link with id {link_id}.")
        source = source_authenticate(source_id=link.source_id, bridge=EventSource.Bridge.REDIRECT)
        request_rate_check(source=source, request=request)
        track = redirect_request_build(link=link, session_id=session_id, params=params, body=body)
        track_ingest(track=track, source=source, client=client_info(request))
        response = HttpResponseRedirect(link.url)
        response.status_code = 307
        return response


def request_body_data(request, body: bytes) -> object | None:
    """The fields of a form body, {} for an empty body; None for a body to read as JSON
    (whatever its content type: Tracardi's Python client sends none)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Parsed here rather than by request.POST, which Django fills for POST only.
        data = dict(QueryDict(body, encoding=request.encoding).items())
        json_value_check(data, loc=["body"])
        return data
    if content_type.startswith("multipart/form-data"):
        data = dict(request.POST.items())
        json_value_check(data, loc=["body"])
        return data
    if not body.strip():
        return {}
    return None
