"""Profiles, sessions and events for the profile tests (each test package keeps its own)."""

import factory
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import IdentificationPoint, Profile, Segment, Session, empty_profile_data
from tests.sources.factories import EventSourceFactory


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)
    data = factory.LazyFunction(empty_profile_data)
    metadata = factory.LazyFunction(lambda: {"time": {}, "fields": {}})


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    profile = factory.SubFactory(ProfileFactory)
    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    type = "page-view"
    source = factory.SubFactory(EventSourceFactory)
    profile = factory.SubFactory(ProfileFactory)
    session = factory.SubFactory(SessionFactory, profile=factory.SelfAttribute("..profile"))
    time = factory.LazyFunction(timezone.now)
    inserted = factory.LazyFunction(timezone.now)
    status = Event.Status.PROCESSED


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    slug = factory.LazyAttribute(lambda segment: "-".join(segment.name.lower().split()))
    condition = "profile@stats.visits > 3"
    kind = Segment.Kind.LIVE


class IdentificationPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentificationPoint

    name = factory.Sequence(lambda n: f"Point {n}")
    event_type = "identification"
    fields = factory.LazyFunction(
        lambda: [{"profile": "data.contact.email.main", "event": "properties.email"}]
    )
