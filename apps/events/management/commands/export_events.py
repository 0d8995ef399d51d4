from apps.core.text import normalise_event_type
from apps.events.selectors import event_documents_stream, events_for_export
from apps.profiles.exports import ExportCommand, ExportError
from apps.profiles.selectors import segment_slug_find, segment_slugs_known
from apps.sources.models import EventSource


class Command(ExportCommand):
    help = (
        "Exports events, streamed in id order: JSON Lines of Tracardi-shaped event documents, "
        "or CSV of chosen columns; filtered by type, source, event time, a condition and the "
        "segment of their profile. Progress on stderr."
    )
    source = "event"
    default_columns = "id,type,time,source.id,profile.id,session.id"
    where_example = "'event@properties.total > 100'"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--type",
            action="append",
            default=[],
            help="Only events of this type (repeat, or separate with commas).",
        )
        parser.add_argument(
            "--source",
            action="append",
            default=[],
            help="Only events of this event source id (repeat, or separate with commas).",
        )
        parser.add_argument(
            "--segment", help="Only events of profiles in this segment (name or slug)."
        )

    def documents(self, options, *, since, until):
        types = [normalise_event_type(name) for name in _listed(options["type"])]
        sources = _listed(options["source"])
        known = set(EventSource.objects.filter(pk__in=sources).values_list("pk", flat=True))
        unknown = [source for source in sources if source not in known]
        if unknown:
            raise ExportError(
                f"--source: no event source has the id {', '.join(map(repr, unknown))}."
            )
        segment = None
        if options["segment"] is not None:
            segment = segment_slug_find(options["segment"])
            if segment is None:
                known_segments = ", ".join(segment_slugs_known()) or "none defined"
                raise ExportError(
                    f"--segment {options['segment']!r}: no segment has this name or slug, and "
                    f"no profile carries it (segments: {known_segments})."
                )
        events = events_for_export(
            types=types, source_ids=sources, since=since, until=until, segment=segment
        )
        # Counting every event of a large table costs a scan: the bar shows the rate only.
        return event_documents_stream(events, chunk_size=options["chunk_size"]), None


def _listed(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]
