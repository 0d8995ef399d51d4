"""A returning visitor's request in one statement (apps/tracking/returning.py), and the cases
that must leave it for the general path with nothing written twice."""

import pytest
from django.db import connection

from apps.destinations.models import Delivery, Destination
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from tests.destinations.factories import DestinationFactory
from tests.support.database import other_connection
from tests.tracking.conftest import payload
from tests.workflows.factories import RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

PAGE_VIEWS = [
    {"type": "page-view", "properties": {"url": "/a"}},
    {"type": "page-view", "properties": {"url": "/b"}},
    {"type": "click", "properties": {"element": "cta"}},
]


def track(api, **fields) -> dict:
    response = api.track(payload(events=PAGE_VIEWS, **fields))
    assert response.status_code == 200, response.content
    return response.json()


def test_a_returning_visit_touches_the_session_counts_views_and_stores_the_events(
    api, rest_source, django_assert_num_queries
):
    first = track(api, session="s-1", context={"page": {"url": "/a"}, "screen": "wide"})
    profile_id = first["profile"]["id"]
    first_ids = list(Event.objects.filter(session_id="s-1").values_list("pk", flat=True))

    with django_assert_num_queries(1):
        answer = track(api, session="s-1", profile=profile_id, context={"screen": "narrow"})

    assert (answer["profile"], answer["session"]) == ({"id": profile_id}, {"id": "s-1"})
    assert Profile.objects.get(pk=profile_id).stats["views"] == 4
    session = Session.objects.get(pk="s-1")
    assert session.context == {"page": {"url": "/a"}, "screen": "narrow"}
    assert session.updated > session.created
    stored = Event.objects.filter(session_id="s-1").exclude(pk__in=first_ids)
    assert sorted(stored.values_list("type", "profile_id", "status")) == [
        ("click", profile_id, "processed"),
        ("page-view", profile_id, "processed"),
        ("page-view", profile_id, "processed"),
    ]
    assert {event.metadata["profile_id"] for event in stored} == {profile_id}


def test_a_session_of_another_profile_takes_the_general_path_once(api, rest_source):
    """The session wins (DESIGN §4.2): the client's profile id is another profile's, so the
    one statement touches nothing and the general path counts the page views once."""
    owner = track(api, session="s-owner")["profile"]["id"]
    other = track(api, session="s-other")["profile"]["id"]

    answer = track(api, session="s-owner", profile=other)

    assert answer["profile"] == {"id": owner}
    assert Profile.objects.get(pk=owner).stats["views"] == 4
    assert Profile.objects.get(pk=other).stats["views"] == 2
    assert Event.objects.filter(session_id="s-owner", profile_id=owner).count() == 3 + 3 + 3
    assert Event.objects.filter(profile_id=other).count() == 3 + 3


def test_a_retried_request_stores_its_events_once(api, rest_source):
    profile_id = track(api, session="s-retry")["profile"]["id"]
    events = [{**event, "id": f"client-{n}"} for n, event in enumerate(PAGE_VIEWS)]

    for _ in range(2):
        response = api.track(payload(events=events, session="s-retry", profile=profile_id))
        assert response.status_code == 200, response.content

    assert Event.objects.filter(pk__startswith="client-").count() == 3


def test_an_ended_visit_of_the_session_starts_again(api, rest_source):
    profile_id = track(api, session="s-ended")["profile"]["id"]
    Session.objects.filter(pk="s-ended").update(status="ended", metadata={"status": "ended"})

    track(api, session="s-ended", profile=profile_id)

    session = Session.objects.get(pk="s-ended")
    assert (session.status, session.metadata["status"]) == ("started", "started")


def test_routed_events_are_handed_to_the_workers_after_the_statement(
    api, rest_source, django_capture_on_commit_callbacks
):
    workflow = WorkflowFactory(name="Clicks", graph=linear_graph())
    RuleFactory(name="Clicks", workflow=workflow, event_type="click")
    profile_id = track(api, session="s-routed")["profile"]["id"]

    with django_capture_on_commit_callbacks() as callbacks:
        track(api, session="s-routed", profile=profile_id)

    assert len(callbacks) == 1
    statuses = Event.objects.filter(session_id="s-routed", type="click").values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["collected", "collected"]


def test_an_event_destination_keeps_the_general_path(api, rest_source):
    destination = DestinationFactory(kind=Destination.Kind.EVENT, event_type="click")
    profile_id = track(api, session="s-sent")["profile"]["id"]

    track(api, session="s-sent", profile=profile_id)

    clicks = Event.objects.filter(session_id="s-sent", type="click")
    assert Delivery.objects.filter(destination=destination, event__in=clicks).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_without_an_error(api, rest_source):
    """The one statement runs without the connection's health check: when PostgreSQL dropped
    the connection (a restart, an idle timeout), the statement fails having written nothing
    and runs again on a new connection."""
    profile_id = track(api, session="s-dropped")["profile"]["id"]
    old_backend = connection.connection.info.backend_pid
    _terminate_backend(old_backend)

    answer = track(api, session="s-dropped", profile=profile_id)

    assert answer["profile"] == {"id": profile_id}
    assert connection.connection.info.backend_pid != old_backend
    assert Profile.objects.get(pk=profile_id).stats["views"] == 4
    assert Event.objects.filter(session_id="s-dropped").count() == 6 + 3


def _terminate_backend(pid: int) -> None:
    with other_connection(autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_the_statement_is_prepared_on_its_connection(api, rest_source):
    """Parsed and planned once per connection (DATABASE_PREPARED_STATEMENTS, on by default):
    psycopg prepares it on its 6th run on a connection (after 5, `prepare_threshold`)."""
    profile_id = track(api, session="s-prepared")["profile"]["id"]

    for _ in range(6):
        track(api, session="s-prepared", profile=profile_id)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%WITH touched AS%INSERT INTO events_event%"],
        )
        assert cursor.fetchone() == (1,)
