"""Views of the browser tracker: its script files under /tracker/, a test page per event
source (staff) and a demo page (development or staff). The build and the snippet are in
apps/tracking/snippet.py.
"""

import hashlib

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from apps.sources.models import EventSource
from apps.tracking.snippet import (
    DEMO_SOURCE_ID,
    SERVED_FILES,
    WIDGET_NAMES,
    tracker_file_read,
    tracker_snippet_render,
    widget_file_name,
)


@require_GET
def tracker_script_view(request: HttpRequest, name: str) -> HttpResponse:
    built_name = SERVED_FILES.get(name)
    if built_name is None:
        raise Http404(f"No tracker file {name!r}; the tracker is /tracker/index.min.js.")
    return _script_response(tracker_file_read(built_name))


def _script_response(code: str) -> HttpResponse:
    response = HttpResponse(code, content_type="application/javascript; charset=utf-8")
    # Not fingerprinted (the snippet's URL never changes), so caches must revalidate soon.
    response["Cache-Control"] = "public, max-age=300"
    response["ETag"] = '"' + hashlib.sha256(code.encode()).hexdigest()[:16] + '"'
    return response


@require_GET
def tracker_widget_view(request: HttpRequest, name: str) -> HttpResponse:
    """A UX widget's script, which the tracker loads when a /track answer shows the widget."""
    widget = name.removesuffix(".js")
    if not name.endswith(".js") or widget not in WIDGET_NAMES:
        raise Http404(f"No widget {name!r}; the widgets are {', '.join(WIDGET_NAMES)}.")
    return _script_response(tracker_file_read(widget_file_name(widget)))


@staff_member_required
@permission_required("sources.view_eventsource", raise_exception=True)
@require_GET
def tracker_test_page_view(request: HttpRequest, source_id: str) -> HttpResponse:
    """A page with the snippet of one REST source, for a staff member whose role sees event
    sources to try it out."""
    source = get_object_or_404(EventSource, pk=source_id)
    snippet = tracker_snippet_render(
        source_id=source.id, public_url=settings.CDP_PUBLIC_URL, auto=_test_page_auto()
    )
    return render(request, "tracker/test_page.html", {"source": source, "snippet": snippet})


@require_GET
def tracker_demo_view(request: HttpRequest) -> HttpResponse:
    """The tracker against the demo source, with a live log; in development or for staff."""
    if not (settings.DEBUG or (request.user.is_authenticated and request.user.is_staff)):
        raise Http404("The tracker demo is served in development (DEBUG) or to staff only.")
    source = EventSource.objects.filter(pk=DEMO_SOURCE_ID).first()
    snippet = tracker_snippet_render(
        source_id=DEMO_SOURCE_ID, public_url=settings.CDP_PUBLIC_URL, auto=_demo_auto()
    )
    return render(request, "tracker/demo.html", {"source": source, "snippet": snippet})


def _test_page_auto() -> dict:
    return {
        "events": [["page-view", {"page": "tracker test page"}]],
        "triggers": [
            {"tag": "test-banner", "trigger": "onVisible", "data": {"event": "banner-viewed"}},
            {"tag": "test-text", "trigger": "onTextSelect", "data": {"event": "text-selected"}},
            {"tag": "test-hover", "trigger": "onMouseOver", "data": {"event": "hovered"}},
            {"tag": "test-button", "trigger": "onClick", "data": {"event": "button-clicked"}},
        ],
    }


def _demo_auto() -> dict:
    return {
        "events": [["page-view", {"page": "tracker demo"}]],
        "triggers": [
            {"tag": "hero", "trigger": "onVisible", "data": {"event": "hero-viewed"}},
            {"tag": "offer-text", "trigger": "onTextSelect", "data": {"event": "text-selected"}},
            {"tag": "product", "trigger": "onMouseOver", "data": {"event": "product-hovered"}},
            {
                "tag": "add-to-cart",
                "trigger": "onClick",
                "data": {"event": "add-to-cart", "properties": {"product": "Sun glasses"}},
            },
            {
                "tag": "newsletter",
                "trigger": "onClick",
                "data": {"event": "newsletter-signup-clicked"},
            },
        ],
    }


def tracker_snippet_admin_html(source: EventSource) -> str:
    """The snippet of a REST source, ready to paste, and a link to try it (admin field)."""
    if source.pk is None or source._state.adding:
        return "Shown once the source is saved."
    if source.bridge != EventSource.Bridge.REST:
        return "The JavaScript snippet is for event sources with bridge REST API (/track)."
    snippet = tracker_snippet_render(source_id=source.id, public_url=settings.CDP_PUBLIC_URL)
    warning = (
        format_html("<p><strong>{}</strong></p>", "This source is disabled: /track refuses it.")
        if not source.enabled
        else ""
    )
    return format_html(
        "{}<p>Paste into the &lt;head&gt; of every page, then send events from a later script, "
        'e.g. <code>window.tracker.track("page-view", {{}})</code>.</p>'
        '<textarea readonly rows="16" cols="100" class="vLargeTextField" '
        'id="tracker-snippet" onclick="this.select()">{}</textarea>'
        '<p><a href="{}" target="_blank" rel="noopener">Open a test page</a> that loads this '
        "snippet (it stores real events from your browser).</p>"
        "<p>Workflows whose rule answers in the request can show widgets on the page (consent "
        "bar, popups, messages) and send data to the page's code: "
        "<code>window.tracker.onResponse(function (response) {{ ... }})</code> receives each "
        "answer's <code>response</code> (see docs/tracker.md).</p>",
        warning,
        snippet,
        reverse("tracker-test", args=[source.id]),
    )
