"""Segment sizes for the trend charts (apps.tracking.trends)."""

from django.db import connection

from apps.profiles.models import Segment


def segment_sizes() -> dict[str, int]:
    """{slug: members now} of every enabled segment: one pass over the profiles that are in
    one of them (the GIN index on segments finds them)."""
    slugs = sorted(Segment.objects.filter(enabled=True).values_list("slug", flat=True))
    sizes = dict.fromkeys(slugs, 0)
    if not slugs:
        return sizes
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT slug, count(*) FROM profiles_profile, unnest(segments) AS slug "
            "WHERE segments && %s::varchar[] AND slug = ANY(%s) GROUP BY slug",
            [slugs, slugs],
        )
        sizes.update(dict(cursor.fetchall()))
    return sizes
