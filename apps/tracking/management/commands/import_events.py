import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.events.imports import (
    BATCH_SIZE,
    EventImportOptions,
    EventImportSummary,
    event_match_option,
    events_import,
)
from apps.profiles.services.imports.errors import ErrorFile, default_errors_path
from apps.profiles.services.imports.fields import RowError
from apps.profiles.services.imports.readers import ImportFileError, InputFile
from apps.tracking.handoff import events_enqueue
from apps.tracking.routing import event_needs_processing

PROGRESS_SECONDS = 5.0


class _Terminated(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Imports historic events from JSON Lines or a JSON array (gzip too; FILE '-' reads "
        "standard input), in Tracardi's event export shape (id, type, metadata.time.create, "
        "source.id, profile.id, session.id, properties, context, traits, tags, request) or "
        "with the columns' names (time, source_id, profile_id, session_id). Events keep "
        "their ids and times: a re-import stores nothing twice. Each event is attached to "
        "the profile it names (or, with --match, the profile holding its identifier); an "
        "event whose profile is not stored is skipped and written to the error file (import "
        "the profiles first, then re-run). Workflows do not run for imported events unless "
        "--process. Bad rows are skipped and written to the error file with their line "
        "numbers; each batch is one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import, or - for standard input.")
        parser.add_argument(
            "--format",
            choices=["jsonl", "json"],
            help="jsonl (one event per line) or json (an array). Default: from the extension "
            "or the first character.",
        )
        parser.add_argument(
            "--match",
            action="append",
            metavar="PROFILE_FIELD=EVENT_PATH",
            help="Attach events by identifier instead of profile id, e.g. "
            "data.contact.email.main=properties.email (any case for the e-mail); the oldest "
            "profile holding the value wins. Repeat for several pairs (all must match).",
        )
        parser.add_argument(
            "--source",
            metavar="ID",
            help="The event source of events that name none (or an unknown one is an error).",
        )
        parser.add_argument(
            "--process",
            action="store_true",
            help="Hand the events that rules route (or that map onto the profile, or "
            "identify) to the workers, as tracked events are: workflows run for them. "
            "Without it they are stored as processed history.",
        )
        parser.add_argument(
            "--errors",
            metavar="FILE",
            help="Where to write the skipped events (default: next to the input, FILE."
            "errors.jsonl, or in the current directory).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report the counts; store nothing."
        )
        parser.add_argument(
            "--encoding",
            default="utf-8",
            help="The file's text encoding (default utf-8; e.g. latin-1, cp1252).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help="Events written per transaction.",
        )

    def handle(self, *args, file, **options):
        try:
            import_options = EventImportOptions(
                match=event_match_option(options["match"]),
                source_id=options["source"],
                dry_run=options["dry_run"],
                format=options["format"],
                batch_size=max(1, options["batch_size"]),
            )
            input_file = InputFile(file, encoding=options["encoding"])
        except (ImportFileError, RowError) as error:
            raise CommandError(str(error)) from None
        opened: list[ErrorFile] = []

        def errors(header, fmt):
            path = options["errors"] or default_errors_path(file, fmt, now=timezone.now())
            opened.append(ErrorFile(path, header=None))
            return opened[0]

        last = [time.monotonic()]

        def progress(summary: EventImportSummary) -> None:
            # A plain line every few seconds (the summary follows at the end).
            if time.monotonic() - last[0] >= PROGRESS_SECONDS:
                last[0] = time.monotonic()
                rate = summary.rows / summary.seconds if summary.seconds else 0.0
                self.stderr.write(
                    f"{summary.rows:,} events read ({rate:,.0f}/s), {summary.stored:,} stored"
                )

        summary = EventImportSummary()
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            events_import(
                input_file=input_file,
                options=import_options,
                errors=errors,
                summary=summary,
                progress=progress,
                needs_processing=event_needs_processing if options["process"] else None,
                hand_off=events_enqueue if options["process"] else None,
            )
        except ImportFileError as error:
            self._report(summary, opened, file)
            raise CommandError(str(error)) from None
        except (KeyboardInterrupt, _Terminated):
            self._report(summary, opened, file)
            raise CommandError(
                "Interrupted: the batch in progress was rolled back. Run the same command "
                "again to finish (stored events are not stored twice).",
                returncode=130,
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            input_file.close()
        self._report(summary, opened, file)

    def _report(self, summary: EventImportSummary, opened: list[ErrorFile], file: str) -> None:
        name = "standard input" if file == "-" else file
        verb = "Dry run of" if summary.dry_run else "Imported"
        self.stdout.write(
            f"{verb} {name} ({summary.format or '?'}): {summary.rows} events in "
            f"{summary.seconds:.1f} s"
        )
        self.stdout.write(f"  stored:         {summary.stored}")
        self.stdout.write(f"  already stored: {summary.already_stored}")
        self.stdout.write(f"  queued:         {summary.queued}")
        error_file = opened[0] if opened else None
        where = (
            f"written to {error_file.path}"
            if error_file is not None and error_file.count
            else "no error file"
        )
        self.stdout.write(f"  skipped:        {summary.skipped} ({where})")
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was stored.")


def _raise_terminated(signum, frame):
    raise _Terminated
