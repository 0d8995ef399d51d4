import factory

from apps.sources.models import EventSource, RedirectLink


class EventSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventSource

    name = factory.Sequence(lambda n: f"Source {n}")
    bridge = EventSource.Bridge.REST


class RedirectLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RedirectLink

    name = factory.Sequence(lambda n: f"Link {n}")
    url = "https://example.com/landing"
    source = factory.SubFactory(EventSourceFactory, bridge=EventSource.Bridge.REDIRECT)
