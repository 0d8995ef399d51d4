"""Writing and reading daily figures (models.DailyMetric)."""

from collections.abc import Mapping
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Min

from apps.core.models import DailyMetric


def metrics_replace(*, day: date, name: str, values: Mapping[str, int]) -> None:
    """The figures `name` of `day` become `values` ({dimension: value}); dimensions no longer
    counted that day are removed."""
    with transaction.atomic():
        DailyMetric.objects.filter(day=day, name=name).exclude(dimension__in=list(values)).delete()
        DailyMetric.objects.bulk_create(
            [
                DailyMetric(day=day, name=name, dimension=dimension, value=value)
                for dimension, value in values.items()
            ],
            update_conflicts=True,
            unique_fields=["name", "day", "dimension"],
            update_fields=["value", "updated"],
        )


def metric_days(*, last: date, days: int) -> list[date]:
    return [last - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def metric_series(*, name: str, days: list[date]) -> dict[str, list[int]]:
    """{dimension: [value per day, 0 where none]} of `name` over `days` (oldest first)."""
    position = {day: index for index, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    rows = DailyMetric.objects.filter(name=name, day__gte=days[0], day__lte=days[-1])
    for day, dimension, value in rows.values_list("day", "dimension", "value"):
        series.setdefault(dimension, [0] * len(days))[position[day]] = value
    return series


def metric_known(*, name: str, day: date) -> bool:
    return DailyMetric.objects.filter(name=name, day=day).exists()


def metric_first_day(*, name: str, since: date) -> date | None:
    """The first day from `since` on with figures `name` (a snapshot's history start)."""
    return DailyMetric.objects.filter(name=name, day__gte=since).aggregate(first=Min("day"))[
        "first"
    ]
