"""The error pages of the public endpoints and the management API: JSON {"detail": ...}.

Clients of /track, /collect, /redirect and /api/ read JSON, so the pages Django renders itself
answer JSON under these paths: a request Django refuses before any view (400, e.g. too many form
fields), a path that matches no view (404), an exception no view handled (500). Every other
path keeps Django's pages. Wired in cdp/urls.py (handler400, handler404, handler500).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

PUBLIC_PREFIXES = ("/track", "/collect", "/redirect", "/api")


def is_public_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def bad_request_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_public_path(request.path):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_public_path(request.path):
        return JsonResponse({"detail": f"No such endpoint: {request.path}."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request: HttpRequest) -> HttpResponse:
    if is_public_path(request.path):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
