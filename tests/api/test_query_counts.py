"""Issue 17: list endpoints read a page in a fixed number of queries, whatever its size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.destinations.models import Delivery
from apps.events.models import EventReindexJob, EventReshaping, EventType, IndexedProperty
from apps.workflows.models import Rule, Workflow
from tests.destinations.factories import DestinationFactory
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.sources.factories import EventSourceFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


def _deliveries(count: int) -> None:
    now = timezone.now()
    destination = DestinationFactory()
    for _ in range(count):
        Delivery.objects.create(
            destination=destination,
            profile=ProfileFactory(),
            due_at=now,
            first_change_at=now,
            latest_due_at=now,
            created=now,
            updated=now,
        )


def _rules(count: int) -> None:
    workflow = Workflow.objects.create(name="W", draft=linear_graph())
    for n in range(count):
        Rule.objects.create(name=f"R{n}", event_type="page-view", workflow=workflow)


def _purchase() -> EventType:
    return EventType.objects.get_or_create(type="purchase", defaults={"name": "Purchase"})[0]


def _reshapings(count: int) -> None:
    event_type, start = _purchase(), EventReshaping.objects.count()
    for n in range(start, start + count):
        EventReshaping.objects.create(
            event_type=event_type, name=f"R{n}", source=EventSourceFactory(), properties={}
        )


def _indexed(count: int) -> None:
    event_type, start = _purchase(), IndexedProperty.objects.count()
    for n in range(start, start + count):
        IndexedProperty.objects.create(event_type=event_type, property=f"p{n}", trait=f"t{n}")


def _reindex_jobs(count: int) -> None:
    event_type = _purchase()
    for _ in range(count):
        EventReindexJob.objects.create(
            # Done: one type has at most one re-index queued or running (a constraint).
            event_type=event_type,
            requested_by="anna",
            requested_at=timezone.now(),
            status=EventReindexJob.Status.DONE,
        )


MAKERS = {
    "/api/v1/profiles/": lambda count: ProfileFactory.create_batch(count),
    "/api/v1/events/": lambda count: EventFactory.create_batch(count),
    "/api/v1/segments/": lambda count: SegmentFactory.create_batch(count),
    "/api/v1/workflows/": lambda count: [
        Workflow.objects.create(name=f"W{n}", draft=linear_graph()) for n in range(count)
    ],
    "/api/v1/rules/": _rules,
    "/api/v1/destinations/": lambda count: DestinationFactory.create_batch(count),
    "/api/v1/deliveries/": _deliveries,
    "/api/v1/event-types/purchase/reshaping/": _reshapings,
    "/api/v1/event-types/purchase/indexed-properties/": _indexed,
    "/api/v1/event-types/purchase/reindex-jobs/": _reindex_jobs,
}


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{url}?page_size=100")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", list(MAKERS))
def test_a_page_costs_the_same_queries_at_2_and_at_15_rows(client_all, url):
    client_all.get("/api/v1/stats")  # the key's first use records it
    MAKERS[url](2)
    small = _queries(client_all, url)
    MAKERS[url](13)
    large = _queries(client_all, url)
    assert large == small
    assert small <= 3
