"""Factories for workflow tests; profiles, sessions and events come from the shared ones."""

import factory

from apps.events.models import Event
from apps.workflows.models import Rule, Workflow
from tests.events import factories as events
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.workflows.graphs import linear_graph

__all__ = [
    "EventFactory",
    "ProfileFactory",
    "RuleFactory",
    "SessionFactory",
    "WorkflowFactory",
]


class EventFactory(events.EventFactory):
    """An event waiting for its workflows."""

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
