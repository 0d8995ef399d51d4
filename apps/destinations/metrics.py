"""Daily delivery attempt counts for the trend charts (apps.tracking.trends)."""

from datetime import datetime

from django.db.models import Count

from apps.destinations.models import DeliveryAttempt

SEPARATOR = "|"


def attempt_counts(*, start: datetime, end: datetime) -> dict[str, int]:
    """{"<destination id>|<outcome>": attempts} started in [start, end), test sends
    from the admin left out: a range over the index on started."""
    rows = (
        DeliveryAttempt.objects.filter(started__gte=start, started__lt=end, is_test=False)
        .values_list("destination_id", "outcome")
        .annotate(attempts=Count("id"))
        .order_by()
    )
    return {f"{destination_id}{SEPARATOR}{outcome}": n for destination_id, outcome, n in rows}
