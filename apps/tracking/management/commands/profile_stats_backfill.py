from django.core.management.base import BaseCommand
from django.db import transaction

from apps import notation
from apps.profiles.models import Segment
from apps.profiles.services.segments import condition_profile_paths
from apps.profiles.tasks import segment_evaluate_now
from apps.tracking.stats import profile_stats_backfill_batch


class Command(BaseCommand):
    help = (
        "Fill Tracardi's stats.visits (the visit count) and stats.views (stored page-view "
        "events) on profiles stored before the CDP kept them; then evaluate the enabled "
        "segments that read profile@stats again. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Profiles updated per transaction."
        )
        parser.add_argument(
            "--no-evaluate", action="store_true", help="Do not evaluate segments afterwards."
        )

    def handle(self, *args, batch_size: int, no_evaluate: bool, **options):
        after, total = "", 0
        while after is not None:
            with transaction.atomic():
                after, updated = profile_stats_backfill_batch(after_id=after, batch_size=batch_size)
            total += updated
            self.stdout.write(f"{total:,} profiles done", ending="\r")
        self.stdout.write(
            self.style.SUCCESS(f"stats.visits and stats.views set on {total:,} profiles.")
        )
        if no_evaluate:
            return
        for segment in Segment.objects.filter(enabled=True).order_by("name"):
            try:
                paths = condition_profile_paths(segment.condition)
            except notation.NotationError:
                continue  # an invalid condition is not evaluated anyway
            if any(not path or path[0] == "stats" for path in paths):
                with transaction.atomic():
                    segment_evaluate_now(segment=segment)
                self.stdout.write(f"Evaluation of segment {segment.name!r} started.")
