"""Factories for workflow tests; profiles, sessions and events come from the shared ones."""

import copy

import factory
from django.utils import timezone

from apps.events.models import Event
from apps.workflows.models import Rule, Workflow, WorkflowVersion
from tests.events import factories as events
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.workflows.graphs import linear_graph

__all__ = [
    "EventFactory",
    "ProfileFactory",
    "RuleFactory",
    "SessionFactory",
    "WorkflowFactory",
    "WorkflowVersionFactory",
]


class EventFactory(events.EventFactory):
    """An event waiting for its workflows."""

    status = Event.Status.COLLECTED


class WorkflowVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkflowVersion


class WorkflowFactory(factory.django.DjangoModelFactory):
    """A deployed workflow: its graph runs, its draft is the same graph, and its version is
    kept (as a deploy leaves them); `deployed_at=None` for one never deployed."""

    class Meta:
        model = Workflow
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Workflow {n}")
    graph = factory.LazyFunction(lambda: linear_graph())
    version = 1
    draft = factory.LazyAttribute(lambda workflow: copy.deepcopy(workflow.graph))
    deployed_at = factory.LazyFunction(timezone.now)
    kept_version = factory.Maybe(
        "deployed_at",
        yes_declaration=factory.RelatedFactory(
            WorkflowVersionFactory,
            factory_related_name="workflow",
            version=factory.SelfAttribute("..version"),
            graph=factory.SelfAttribute("..graph"),
            deployed_at=factory.SelfAttribute("..deployed_at"),
        ),
    )


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    event_type = "page-view"
    workflow = factory.SubFactory(WorkflowFactory)
    source = None
