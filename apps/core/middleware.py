import time

from corsheaders.middleware import CorsMiddleware


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
