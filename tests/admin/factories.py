"""Profiles, sessions and events for the admin tests (tests/profiles and tests/events belong to
other work; these stay local to keep the admin tests self-contained)."""

import factory
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from tests.sources.factories import EventSourceFactory


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)


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
    inserted = factory.SelfAttribute("time")
