import gc
import signal
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from apps.profiles.services.imports.errors import ErrorFile, default_errors_path
from apps.profiles.services.imports.fields import KINDS, RowError, type_option
from apps.profiles.services.imports.mapping import Mapping
from apps.profiles.services.imports.matching import match_option
from apps.profiles.services.imports.readers import (
    FORMATS,
    MAX_LINE_BYTES,
    ImportFileError,
    InputFile,
)
from apps.profiles.services.imports.service import (
    BATCH_SIZE,
    ImportOptions,
    ImportSummary,
    profiles_import,
)

# Without a terminal, progress is one plain line this often.
PLAIN_PROGRESS_SECONDS = 5.0


class _Terminated(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Imports profiles from a CSV file (with a header line), JSON Lines or a JSON array; "
        "gzip-compressed files are read as they are; FILE '-' reads standard input. Columns "
        "(or JSON keys) are profile fields: id, primary_id, active, data.contact.email.main, "
        "data.pii.firstname, traits.plan, aux.*, interests.*, ... (nested JSON objects too). "
        "Values are converted as their field needs (numbers, true/false, ISO dates, e-mail "
        "addresses checked); a bad row is skipped and written, with its line number and the "
        "reason, to the error file. Rows are written in transactions of --batch-size rows: "
        "an interrupted import leaves no half-written row, and running it again finishes it "
        "(rows already imported change nothing). Imported profiles have their live segments "
        "recomputed and their destination syncs scheduled, unless --no-sync."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import, or - for standard input.")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="csv, jsonl (one JSON object per line) or json (one array of objects). "
            "Default: from the extension (.csv, .jsonl, .ndjson, .json, also with .gz), else "
            "from the first character ([ json, { jsonl, anything else csv).",
        )
        parser.add_argument(
            "--mapping",
            metavar="FILE",
            help="A JSON object template that builds each profile from a row, for files with "
            "their own column names. Keys are profile fields (dotted or nested), values read "
            'the row as row@Column, row@["Column with spaces"]; other strings are literals; '
            "a key ending in ? is skipped when its column is missing or empty. Example: "
            '{"data.contact.email.main": "row@Email", "data.pii.firstname": '
            '"row@[\\"First name\\"]", "traits.plan": "row@Plan", "traits.source": "crm"}',
        )
        parser.add_argument(
            "--match",
            action="append",
            metavar="FIELD",
            help="How rows find their profile. Default: id (the profile id, or an id merged "
            "into a profile; a row without one is a new profile). An identifier field, e.g. "
            "data.contact.email.main (any case) or traits.customer_number: rows update the "
            "profile holding that value, so a re-import updates the same people; profiles "
            "that share the value are merged into the oldest, as identification merges them. "
            "Repeat for several fields (all must match).",
        )
        parser.add_argument(
            "--type",
            action="append",
            default=[],
            metavar="FIELD=KIND",
            help=f"The type of an open field (traits.*, aux.*), one of {', '.join(KINDS)}; "
            "e.g. --type traits.age=integer --type traits.vip=boolean. Without it such a "
            "field keeps its value as read (text from CSV).",
        )
        parser.add_argument(
            "--empty",
            choices=["keep", "clear"],
            default="keep",
            help="keep (default): an empty cell or null leaves the stored value as it is; "
            "clear: it removes the stored value.",
        )
        parser.add_argument(
            "--errors",
            metavar="FILE",
            help="Where to write the skipped rows with their line numbers and reasons. "
            "Default: next to the input (FILE.errors.csv or .jsonl), or in the current "
            "directory when that is not writable or for standard input.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be created, updated, merged and skipped; write nothing "
            "(but the error file).",
        )
        parser.add_argument(
            "--no-sync",
            action="store_true",
            help="Do not recompute live segments nor schedule destination syncs for the "
            "imported profiles.",
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
            help=f"Rows per transaction (default {BATCH_SIZE}).",
        )
        parser.epilog = (
            f"Lines (and CSV values) longer than {MAX_LINE_BYTES:,} bytes are skipped as bad "
            "rows. Exit status: 0 when the file was read to its end (see the summary for "
            "skipped rows), 1 when it cannot be imported, 130 when interrupted."
        )

    def handle(self, *args, file, **options):
        try:
            import_options = ImportOptions(
                match=match_option(options["match"]),
                mapping=Mapping.load(options["mapping"]) if options["mapping"] else None,
                types=dict(type_option(text) for text in options["type"]),
                clear_empty=options["empty"] == "clear",
                dry_run=options["dry_run"],
                sync=not options["no_sync"],
                format=options["format"],
                batch_size=max(1, options["batch_size"]),
            )
            if import_options.mapping is not None:
                import_options.mapping.check_fields(import_options.types)
            input_file = InputFile(file, encoding=options["encoding"])
        except (ImportFileError, RowError) as error:
            raise CommandError(str(error)) from None
        error_path = options["errors"]
        opened: list[ErrorFile] = []

        def errors(header, fmt):
            path = error_path or default_errors_path(file, fmt, now=timezone.now())
            opened.append(ErrorFile(path, header=header))
            return opened[0]

        summary = ImportSummary()
        progress = _Progress(input_file, self.stderr)
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        # The garbage collector scanning Django's own objects again and again took about half
        # the CPU of typing and applying rows (timed on 1,000-row batches of the benchmark's
        # file): they are set aside (gc.freeze) and the young generation is collected less
        # often while rows stream through.
        thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(thresholds[0], 20_000), thresholds[1], max(thresholds[2], 100))
        try:
            profiles_import(
                input_file=input_file,
                options=import_options,
                errors=errors,
                summary=summary,
                progress=progress,
            )
        except ImportFileError as error:
            progress.close()
            self._report(summary, opened, file)
            raise CommandError(str(error)) from None
        except (KeyboardInterrupt, _Terminated):
            progress.close()
            self._report(summary, opened, file)
            raise CommandError(
                "Interrupted: the batch in progress was rolled back; the rows counted above "
                "are imported. Run the same command again to finish (rows already imported "
                "change nothing).",
                returncode=130,
            ) from None
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            signal.signal(signal.SIGTERM, previous)
            input_file.close()
        progress.close()
        self._report(summary, opened, file)

    def _report(self, summary: ImportSummary, opened: list[ErrorFile], file: str) -> None:
        name = "standard input" if file == "-" else file
        rate = summary.rows / summary.seconds if summary.seconds else 0.0
        verb = "Dry run of" if summary.dry_run else "Imported"
        self.stdout.write(
            f"{verb} {name} ({summary.format or '?'}): {summary.rows} rows in "
            f"{summary.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        self.stdout.write(f"  created:   {summary.created}")
        self.stdout.write(f"  updated:   {summary.updated}")
        self.stdout.write(f"  unchanged: {summary.unchanged}")
        self.stdout.write(f"  merged:    {summary.merged}")
        error_file = opened[0] if opened else None
        if summary.skipped and error_file is not None and error_file.count:
            where = f"written to {error_file.path}"
        else:
            where = "no error file"
        self.stdout.write(f"  skipped:   {summary.skipped} ({where})")
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was written.")


def _raise_terminated(signum, frame):
    raise _Terminated


class _Progress:
    """A tqdm bar (rows/s, the file's position and the ETA) on a terminal; plain lines every
    few seconds otherwise (logs, CI)."""

    def __init__(self, input_file: InputFile, stream) -> None:
        self.input_file = input_file
        self.stream = stream
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.last_plain = time.monotonic()
        self.position = 0
        if self.tty:
            self.bar = tqdm(
                total=input_file.size,
                unit="B",
                unit_scale=True,
                desc="import",
                file=sys.stderr,
                dynamic_ncols=True,
            )

    def __call__(self, summary: ImportSummary) -> None:
        rate = summary.rows / summary.seconds if summary.seconds else 0.0
        position = self.input_file.bytes_read()
        if self.bar is not None:
            if position is not None:
                self.bar.update(position - self.position)
                self.position = position
            self.bar.set_postfix_str(f"{summary.rows:,} rows, {rate:,.0f} rows/s", refresh=True)
            return
        now = time.monotonic()
        if now - self.last_plain < PLAIN_PROGRESS_SECONDS:
            return
        self.last_plain = now
        line = f"{summary.rows:,} rows, {rate:,.0f} rows/s"
        size = self.input_file.size
        if position and size:
            done = position / size
            eta = summary.seconds * (1 - done) / done if done else 0
            line += f", {done:.0%} of the file, ETA {tqdm.format_interval(eta)}"
        self.stream.write(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
