from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.core.durations import DurationError, duration_parse
from apps.core.progress import Progress
from apps.core.text import normalise_event_type
from apps.sources.models import EventSource
from apps.tracking.retention import (
    Options,
    events_step,
    plan_count,
    purge_counts,
    purge_proceed,
    purge_start,
    retention_plan,
)


class Command(BaseCommand):
    help = (
        "Deletes old data by hand, in batches of short transactions (the nightly retention job "
        "does the same with the settings' retention): events older than a duration (by event "
        "time; their deliveries go with them, their workflow runs stay without the event), "
        "and/or anonymous profiles inactive for a duration that have no events left and no "
        "identifier (e-mail, phone, data.identifier, primary or static id, merged ids, "
        "identification point fields), with their sessions, runs and deliveries. Every purge, "
        "dry runs too, leaves a purge record (admin: Tracking > Purge records). "
        "Durations: 90d, 12h, 2w, 30m."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--events-older-than",
            metavar="DURATION",
            help="Delete events whose time is older than this, e.g. 90d.",
        )
        parser.add_argument(
            "--type",
            action="append",
            default=[],
            metavar="TYPE",
            help="Only events of this type (repeat, or separate with commas).",
        )
        parser.add_argument(
            "--source",
            action="append",
            default=[],
            metavar="ID",
            help="Only events of this event source (repeat, or separate with commas).",
        )
        parser.add_argument(
            "--anonymous-inactive",
            metavar="DURATION",
            help="Delete anonymous profiles not updated for this long (e.g. 180d) that have no "
            "events left.",
        )
        parser.add_argument(
            "--retention",
            action="store_true",
            help="Apply the configured retention now (what the nightly job does): "
            "CDP_*_RETENTION_DAYS and the sources' retention_days.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would go, delete nothing (the record says dry run).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            metavar="N",
            help="Rows per transaction (default CDP_PURGE_BATCH_SIZE).",
        )
        parser.add_argument(
            "--pause-ms",
            type=int,
            metavar="MS",
            help="Pause between two transactions (default CDP_PURGE_PAUSE_MS).",
        )
        parser.add_argument(
            "--actor",
            default="manage.py purge",
            help="Who purged, kept on the purge record.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress on stderr.")

    def handle(self, *args, **options):
        now = timezone.now()
        plan, filters = self._plan(options, now)
        if not plan:
            if options["retention"]:
                self.stdout.write("No retention is configured: nothing to purge.")
                return
            raise CommandError(
                "Say what to purge: --events-older-than DURATION (with --type, --source), "
                "--anonymous-inactive DURATION, or --retention."
            )
        run = self._options(options)
        record = purge_start(
            plan=plan, actor=options["actor"], dry_run=options["dry_run"], filters=filters
        )
        verb = "Counting" if options["dry_run"] else "Purging"
        self.stderr.write(f"{verb}: {record.what}", style_func=str)
        total = None if options["dry_run"] or options["no_progress"] else plan_count(plan)
        with Progress(
            description="purge", total=total, stream=self.stderr, enabled=not options["no_progress"]
        ) as progress:
            purge_proceed(
                record_id=record.pk,
                options=run,
                on_batch=lambda step, rows: progress.update(rows),
            )
        record.refresh_from_db()
        self._report(record)

    def _plan(self, options, now) -> tuple[list[dict], dict]:
        plan: list[dict] = []
        filters: dict = {}
        types = _listed(options["type"])
        sources = _listed(options["source"])
        if (types or sources) and not options["events_older_than"]:
            raise CommandError("--type and --source go with --events-older-than DURATION.")
        if options["events_older_than"]:
            age = _duration("--events-older-than", options["events_older_than"])
            types = [normalise_event_type(name) for name in types]
            known = set(EventSource.objects.filter(pk__in=sources).values_list("pk", flat=True))
            unknown = [source for source in sources if source not in known]
            if unknown:
                raise CommandError(
                    f"No event source has the id {', '.join(map(repr, unknown))} "
                    "(see the admin: Sources > Event sources)."
                )
            plan.append(events_step(before=now - age, types=types, sources=sources))
            filters.update(
                events_older_than=options["events_older_than"], types=types, sources=sources
            )
        if options["anonymous_inactive"]:
            age = _duration("--anonymous-inactive", options["anonymous_inactive"])
            plan.append({"step": "profiles", "before": (now - age).isoformat()})
            filters["anonymous_inactive"] = options["anonymous_inactive"]
        if options["retention"]:
            plan.extend(retention_plan(now=now))
            filters["retention"] = True
        return plan, filters

    def _options(self, options) -> Options:
        run = Options.from_settings()
        batch_size = run.batch_size if options["batch_size"] is None else options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        pause_ms = options["pause_ms"]
        if pause_ms is not None and pause_ms < 0:
            raise CommandError("--pause-ms cannot be negative.")
        pause = run.pause_seconds if pause_ms is None else pause_ms / 1000
        return Options(batch_size=batch_size, pause_seconds=pause)

    def _report(self, record) -> None:
        done = "Would delete" if record.dry_run else "Deleted"
        self.stdout.write(f"{done} ({record.what}):")
        for key, count in purge_counts(record):
            self.stdout.write(f"  {key.replace('_', ' ')}: {count}")
        self.stdout.write(
            f"Purge record {record.pk}, {record.duration_seconds:.1f} s"
            + (" (dry run: nothing deleted)" if record.dry_run else "")
        )


def _listed(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _duration(option: str, text: str):
    try:
        return duration_parse(text)
    except DurationError as error:
        raise CommandError(f"{option}: {error}") from None
