"""Reads behind the admin's filters and related-object links, each bounded so that a list page
stays fast however large the events, sessions and profiles tables grow."""

from apps.core.paginator import Count, bounded_count
from apps.events.models import Event
from apps.profiles.models import Profile, Session

RELATED_COUNT_CAP = 1_000
RECENT_PROFILES_FOR_SEGMENTS = 500


def segments_of_recent_profiles(*, limit: int = RECENT_PROFILES_FOR_SEGMENTS) -> list[str]:
    """Segment names found on the most recently updated profiles (via the -updated index):
    the choices of the admin's segment filter, without reading every profile."""
    rows = Profile.objects.order_by("-updated").values_list("segments", flat=True)[:limit]
    return sorted({segment for segments in rows for segment in segments})


def profile_related_counts(*, profile_id: str, cap: int | None = None) -> dict[str, Count]:
    """Sessions and events of one profile, counted up to `cap` through the profile indexes."""
    cap = cap or RELATED_COUNT_CAP
    return {
        "sessions": bounded_count(Session.objects.filter(profile_id=profile_id), cap=cap),
        "events": bounded_count(Event.objects.filter(profile_id=profile_id), cap=cap),
    }


def session_event_count(*, session_id: str, cap: int | None = None) -> Count:
    cap = cap or RELATED_COUNT_CAP
    return bounded_count(Event.objects.filter(session_id=session_id), cap=cap)
