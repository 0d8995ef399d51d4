import factory

from apps.destinations.models import Destination, Resource
from apps.destinations.selectors import enabled_destinations_cached
from apps.events.models import Event
from tests.events import factories as events
from tests.profiles import factories as profiles


class ProfileFactory(profiles.ProfileFactory):
    traits = factory.LazyFunction(lambda: {"plan": "free"})
    data = factory.LazyFunction(
        lambda: {"pii": {"firstname": "Ada"}, "contact": {"email": {"main": "ada@example.com"}}}
    )


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    name = factory.Sequence(lambda n: f"Resource {n}")
    type = Resource.Type.WEBHOOK
    credentials = factory.LazyFunction(dict)


class DestinationFactory(factory.django.DjangoModelFactory):
    """Pass `url=` for a webhook destination pointing at a test server."""

    class Meta:
        model = Destination

    class Params:
        url = "http://127.0.0.1:9/hook"
        timeout = 5

    name = factory.Sequence(lambda n: f"Destination {n}")
    resource = factory.SubFactory(ResourceFactory)
    kind = Destination.Kind.PROFILE
    mapping = factory.LazyFunction(lambda: {"id": "profile@id"})
    settings = factory.LazyAttribute(lambda o: {"url": o.url, "timeout": o.timeout})
    delay_seconds = 0
    max_delay_seconds = 60

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        destination = super()._create(model_class, *args, **kwargs)
        # As the services do: this process sees it at once.
        enabled_destinations_cached.cache_clear()
        return destination


class EventFactory(events.EventFactory):
    id = factory.Sequence(lambda n: f"event-{n}")
    type = "purchase"
    profile = factory.SubFactory(ProfileFactory)
    session = None
    inserted = factory.SelfAttribute("time")
    status = Event.Status.COLLECTED
    properties = factory.LazyFunction(lambda: {"total": 42.5, "currency": "EUR"})
