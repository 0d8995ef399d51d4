import time


class ProcessTimeMiddleware:
    """Adds X-Process-Time (seconds, as Tracardi does) to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Process-Time"] = f"{time.perf_counter() - started:.6f}"
        return response
