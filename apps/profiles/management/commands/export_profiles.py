from apps.profiles.exports import ExportCommand, ExportError
from apps.profiles.selectors import (
    EXPORT_TIME_FIELDS,
    profile_document_lines,
    profile_documents_stream,
    profiles_for_export,
    segment_slug_find,
    segment_slugs_known,
)


class Command(ExportCommand):
    help = (
        "Exports profiles, streamed in id order: JSON Lines of Tracardi-shaped profile "
        "documents, or CSV of chosen columns; filtered by segment, a condition and the time "
        "of their last update (or creation). Progress on stderr."
    )
    source = "profile"
    default_columns = "id,primary_id,data.contact.email.main,segments,metadata.time.insert"
    where_example = "'profile@traits.plan == \"pro\"'"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--segment", help="Only profiles in this segment (name or slug).")
        parser.add_argument(
            "--time-field",
            choices=sorted(EXPORT_TIME_FIELDS),
            default="updated",
            help="What --since/--until compare: the last update (default) or the creation.",
        )

    def documents(self, options, *, since, until):
        profiles = self._profiles(options, since=since, until=until)
        total = profiles.count() if not options["no_progress"] else None
        return profile_documents_stream(profiles, chunk_size=options["chunk_size"]), total

    def document_lines(self, options, *, since, until):
        profiles = self._profiles(options, since=since, until=until)
        total = profiles.count() if not options["no_progress"] else None
        return profile_document_lines(profiles, chunk_size=options["chunk_size"]), total

    def _profiles(self, options, *, since, until):
        segment = None
        if options["segment"] is not None:
            segment = segment_slug_find(options["segment"])
            if segment is None:
                known = ", ".join(segment_slugs_known()) or "none defined"
                raise ExportError(
                    f"--segment {options['segment']!r}: no segment has this name or slug, and "
                    f"no profile carries it (segments: {known})."
                )
        return profiles_for_export(
            segment=segment, since=since, until=until, time_field=options["time_field"]
        )
