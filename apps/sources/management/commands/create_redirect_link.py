import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.sources.models import EventSource
from apps.sources.services import redirect_link_create


class Command(BaseCommand):
    help = (
        "Creates a tracked redirect link (/redirect/<id>) and prints only its id. The source must "
        "exist and have the redirect bridge."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name people recognise, e.g. 'Newsletter March'.")
        parser.add_argument("--url", required=True, help="Where the visitor is sent (307).")
        parser.add_argument(
            "--source", required=True, dest="source_id", help="Id of a redirect event source."
        )
        parser.add_argument(
            "--event-type", default="redirect", help="Type of the stored event; default redirect."
        )
        parser.add_argument(
            "--props",
            default="{}",
            help='Event properties as a JSON object template, e.g. \'{"campaign": '
            '"payload@params.c"}\'.',
        )
        parser.add_argument("--id", dest="link_id", help="The id to use; default a new UUID.")

    def handle(self, *args, name, url, source_id, event_type, props, link_id, **options):
        props_object = _parse_props(props)
        source = EventSource.objects.filter(pk=source_id).first()
        if source is None:
            raise CommandError(
                f"No event source with id {source_id}; create one with "
                f"`manage.py create_event_source NAME --bridge redirect`."
            )
        try:
            link = redirect_link_create(
                name=name.strip(),
                url=url,
                source=source,
                event_type=event_type,
                props=props_object,
                link_id=link_id,
            )
        except ValidationError as exc:
            raise CommandError(_describe(exc, link_id=link_id)) from exc
        self.stdout.write(link.id)


def _parse_props(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--props is not valid JSON ({exc.msg}); give a JSON object.") from exc
    if not isinstance(value, dict):
        raise CommandError(
            f'--props must be a JSON object such as \'{{"campaign": "payload@params.c"}}\', '
            f"not {type(value).__name__}."
        )
    return value


def _describe(exc: ValidationError, *, link_id: str | None) -> str:
    if any(error.code == "unique" for error in exc.error_dict.get("id", [])):
        return f"A redirect link with id {link_id} already exists; pick another --id or omit it"
    return "; ".join(" ".join(messages) for messages in exc.message_dict.values())
