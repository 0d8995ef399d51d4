from django.conf import settings
from django.core.management.base import BaseCommand

from apps.sources.models import EventSource
from apps.sources.services import event_source_ensure

DEMO_SOURCE_ID = "demo-source"
DEMO_SOURCE_NAME = "Demo website"


class Command(BaseCommand):
    help = (
        f"Makes sure the REST event source {DEMO_SOURCE_ID!r} exists (created once, left as is "
        "afterwards) and prints its id and the /track URL to send events to."
    )

    def handle(self, *args, **options):
        source, _created = event_source_ensure(
            source_id=DEMO_SOURCE_ID, name=DEMO_SOURCE_NAME, bridge=EventSource.Bridge.REST
        )
        if source.bridge != EventSource.Bridge.REST or not source.enabled:
            self.stderr.write(
                self.style.WARNING(
                    f"Note: the source {source.id!r} was changed since it was created "
                    f"(bridge {source.bridge}, {'enabled' if source.enabled else 'disabled'}); "
                    "/track accepts it only while it is an enabled rest source."
                )
            )
        self.stdout.write(f"Demo event source id: {source.id}")
        self.stdout.write(f"Send events to:       {settings.CDP_PUBLIC_URL}/track")
