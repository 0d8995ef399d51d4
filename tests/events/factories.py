import factory
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory


class EventFactory(factory.django.DjangoModelFactory):
    """A stored, processed page view of a profile in one of its sessions."""

    class Meta:
        model = Event

    type = "page-view"
    source = factory.SubFactory(EventSourceFactory)
    profile = factory.SubFactory(ProfileFactory)
    session = factory.SubFactory(SessionFactory, profile=factory.SelfAttribute("..profile"))
    time = factory.LazyFunction(timezone.now)
    inserted = factory.LazyFunction(timezone.now)
    status = Event.Status.PROCESSED


def legacy_event_time_set(event: Event, value: str) -> None:
    """Give an event a time Python cannot read back ('0001-01-01 00:00:00+14', 'infinity'), as
    rows stored before events migration 0006 may have: the constraint that refuses such times
    is lifted for the write and put back NOT VALID, as it stands on a database that still holds
    one (the migration repairs them; this is for tests of code that must survive one anyway)."""
    with connection.cursor() as cursor:
        cursor.execute(
            # No ALTER TABLE while the transaction holds deferred foreign-key checks.
            "SET CONSTRAINTS ALL IMMEDIATE; "
            "ALTER TABLE events_event DROP CONSTRAINT event_time_readable; "
            "UPDATE events_event SET time = %s WHERE id = %s; "
            "ALTER TABLE events_event ADD CONSTRAINT event_time_readable CHECK ("
            "time >= '0001-01-01 00:00:00+00' AND time <= '9999-12-31 23:59:59.999999+00'"
            ") NOT VALID; "
            "SET CONSTRAINTS ALL DEFERRED",
            [value, event.pk],
        )
