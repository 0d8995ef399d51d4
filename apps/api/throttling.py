"""The per-key rate limit of the management API (CDP_API_RATE_LIMIT requests per
CDP_API_RATE_WINDOW_SECONDS; 0 = off): 429 with Retry-After, counted in Redis."""

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from apps.api.authentication import KeyHolder
from apps.core.ratelimit import KEY_PREFIX, current_window, window_hits


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        limit = settings.CDP_API_RATE_LIMIT
        user = request.user
        if not limit or user is None or not user.is_authenticated:
            return True
        seconds = settings.CDP_API_RATE_WINDOW_SECONDS
        who = f"k:{user.key.pk}" if isinstance(user, KeyHolder) else f"u:{user.pk}"
        window = current_window(seconds)
        counts = window_hits([f"{KEY_PREFIX}:api:{who}:{window.index}"], seconds)
        if counts is not None and counts[0] > limit:
            raise Throttled(
                wait=window.seconds_left,
                detail=f"Too many requests: this API key may make {limit} per {seconds} s; "
                f"retry in {window.seconds_left} s.",
            )
        return True
