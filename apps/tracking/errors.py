"""The not-found and server-error pages of the public endpoints: JSON {"detail": ...}.

Clients of /track, /collect and /redirect read JSON, so the pages Django renders for a path that
matches no view (404) and for an exception no view handled (500) answer JSON under these paths;
every other path keeps Django's pages. Wired in cdp/urls.py (handler404, handler500).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

PUBLIC_PREFIXES = ("/track", "/collect", "/redirect")


def is_public_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_public_path(request.path):
        return JsonResponse({"detail": f"No such endpoint: {request.path}."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request: HttpRequest) -> HttpResponse:
    if is_public_path(request.path):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
