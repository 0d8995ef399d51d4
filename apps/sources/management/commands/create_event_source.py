from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.sources.models import EventSource
from apps.sources.services import event_source_create


class Command(BaseCommand):
    help = (
        "Creates an event source and prints only its id, so a script can keep it: "
        "SRC=$(python manage.py create_event_source Web --bridge rest)"
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name people recognise, e.g. 'Web shop'.")
        parser.add_argument(
            "--bridge",
            default=EventSource.Bridge.REST.value,
            help="rest (/track), webhook (/collect) or redirect (/redirect). Default: rest.",
        )
        parser.add_argument("--id", dest="source_id", help="The id to use; default a new UUID.")
        parser.add_argument(
            "--static-profile-ids",
            action="store_true",
            help="Trust an unknown profile.id sent by the client and create the profile with it.",
        )
        parser.add_argument(
            "--transitional",
            action="store_true",
            help="Ephemeral: events run through workflows but nothing is stored.",
        )
        parser.add_argument(
            "--disabled", action="store_true", help="Create it disabled (requests get 401)."
        )

    def handle(self, *args, name, bridge, source_id, **options):
        if bridge not in EventSource.Bridge.values:
            raise CommandError(
                f"Unknown bridge {bridge!r}; choose one of {', '.join(EventSource.Bridge.values)}."
            )
        try:
            source = event_source_create(
                name=name.strip(),
                bridge=bridge,
                source_id=source_id,
                static_profile_ids=options["static_profile_ids"],
                transitional=options["transitional"],
                enabled=not options["disabled"],
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc, source_id=source_id)) from exc
        self.stdout.write(source.id)


def _describe(exc: ValidationError, *, source_id: str | None) -> str:
    errors = exc.message_dict
    if any(error.code == "unique" for error in exc.error_dict.get("id", [])):
        return f"An event source with id {source_id} already exists; pick another --id or omit it"
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
