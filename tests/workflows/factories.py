"""Factories for workflow tests. Profiles, sessions and events are local (each test package
keeps its own, see tests/admin/factories.py)."""

import factory
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile, Session, empty_profile_data
from apps.workflows.models import Rule, Workflow
from tests.sources.factories import EventSourceFactory
from tests.workflows.graphs import linear_graph


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    created = factory.LazyFunction(timezone.now)
    updated = factory.LazyFunction(timezone.now)
    data = factory.LazyFunction(empty_profile_data)


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
    status = Event.Status.COLLECTED


class WorkflowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workflow

    name = factory.Sequence(lambda n: f"Workflow {n}")
    graph = factory.LazyFunction(lambda: linear_graph())


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    event_type = "page-view"
    workflow = factory.SubFactory(WorkflowFactory)
    source = None
