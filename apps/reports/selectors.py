from __future__ import annotations

from apps.reports.models import Report


def report_find(*, key: str) -> Report | None:
    """A report by id, else by name."""
    return (
        Report.objects.filter(pk=key).prefetch_related("parameters").first()
        or Report.objects.filter(name=key).prefetch_related("parameters").first()
    )


def report_names() -> list[str]:
    return list(Report.objects.order_by("name").values_list("name", flat=True))
