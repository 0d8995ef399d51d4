import factory
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
