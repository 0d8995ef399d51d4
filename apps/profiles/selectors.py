"""Reads of profiles for the other apps."""

from apps.core.paginator import Count, bounded_count
from apps.profiles.models import Profile


def profiles_count() -> Count:
    """All profiles, counted up to a cap, then PostgreSQL's row estimate."""
    return bounded_count(Profile.objects.all())
