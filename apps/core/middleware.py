import re
import time

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.urls import get_resolver, get_urlconf

# The public tracking endpoints (Tracardi's /track, /collect, /redirect), not /tracker (its
# test page is the staff's, with a session).
TRACKING_PATH = re.compile(r"^/(track|collect|redirect)(/|$)")


class ProcessTimeMiddleware:
    """Adds X-Process-Time (seconds, as Tracardi does) to every response, and echoes the
    request's X-Context header (Tracardi's staging/production switch) as Tracardi does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Process-Time"] = f"{time.perf_counter() - started:.6f}"
        context = request.headers.get("x-context")
        if context is not None:
            response["X-Context"] = context
        return response


class PublicCorsMiddleware(CorsMiddleware):
    """django-cors-headers, plus Tracardi's "allow any request header" on a preflight.

    With credentials allowed, a browser ignores the wildcard `*` in
    Access-Control-Allow-Headers, so the headers the preflight asks for are echoed instead
    (a site sending `x-context` or `authorization` must not be refused). Which paths get CORS
    at all is CORS_URLS_REGEX: the public tracking endpoints, never /admin or /api."""

    def add_response_headers(self, request, response):
        response = super().add_response_headers(request, response)
        requested = request.headers.get("access-control-request-headers")
        if (
            request.method == "OPTIONS"
            and requested
            and response.has_header("access-control-allow-origin")
        ):
            response["Access-Control-Allow-Headers"] = requested
        return response


class TrackingShortcutMiddleware:
    """Sends the public tracking endpoints' requests straight to their views, past the
    middleware listed after this one, which serve the admin and the API: sessions, CSRF (the
    tracking views are exempt), the user, messages. They did nothing for /track and cost it
    about a tenth of its Python time (bench/track_profile.py). The two headers they add to
    every answer are added here the same way: Content-Length (CommonMiddleware) and
    X-Frame-Options (XFrameOptionsMiddleware). A path that matches no view raises Http404 as
    Django's own resolution does (handler404 answers it); the middleware before this one
    (process time, security headers, CORS) still wraps every answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not TRACKING_PATH.match(request.path_info):
            return self.get_response(request)
        try:
            response = self.view_response(request)
        except Exception as exc:  # noqa: BLE001 - Django's answer for it, as its handler gives
            response = response_for_exception(request, exc)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        if response.get("X-Frame-Options") is None:
            response.headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS.upper()
        return response

    def view_response(self, request):
        match = get_resolver(get_urlconf()).resolve(request.path_info)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if callable(getattr(response, "render", None)):
            # DRF's answers (errors, OPTIONS) are template responses, rendered here as
            # Django's handler renders them.
            response = response.render()
        return response
