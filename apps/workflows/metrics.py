"""Daily workflow run counts for the trend charts (apps.tracking.trends)."""

from datetime import datetime

from django.db.models import Count

from apps.workflows.models import WorkflowRun


def run_counts(*, start: datetime, end: datetime) -> dict[str, int]:
    """Runs started in [start, end) per status: a range over the index on -started."""
    rows = (
        WorkflowRun.objects.filter(started__gte=start, started__lt=end)
        .values_list("status")
        .annotate(runs=Count("id"))
        .order_by()
    )
    return dict(rows)
