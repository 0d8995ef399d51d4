"""Exact query counts of POST /track, the hottest path: a new query on it costs every request.

Each test measures one request of two client events after one unmeasured request of another
visitor has loaded the per-process caches (event source, event types and their schemas and
mappings, identification points, the routing table, enabled destinations), with their TTLs
raised so that none of them expires mid-test on a slow machine. So a count does not depend on
test order or on timing, and the per-process caches cost no query in any of them.

Within the test's transaction the request's `atomic()` shows as SAVEPOINT / RELEASE SAVEPOINT;
in production it is BEGIN / COMMIT, which Django does not log. After-commit callbacks run
inside the measured block, so work moved there would count too (with no rule, mapping or
destination there is none: the events are stored `processed`).
"""

import pytest

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.workflows.models import WorkflowRun
from tests.tracking.conftest import payload
from tests.workflows.factories import RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

TWO_EVENTS = [
    {"type": "page-view", "properties": {"url": "/a"}},
    {"type": "click", "properties": {"element": "cta-buy"}},
]
CACHE_TTL_SETTINGS = (
    "CDP_SOURCE_CACHE_SECONDS",
    "CDP_EVENT_TYPE_CACHE_SECONDS",
    "CDP_WORKFLOW_CACHE_SECONDS",
    "CDP_DESTINATION_CACHE_SECONDS",
)


@pytest.fixture
def warm_api(api, rest_source, settings):
    """The tracking client, with every per-process cache loaded by another visitor's request
    (tests/conftest.py empties them before each test)."""
    for name in CACHE_TTL_SETTINGS:
        setattr(settings, name, 3600)
    track(api, session="warm-up")
    return api


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Runs the request's after-commit callbacks (on leaving the block), so that work done
    there is counted too."""
    return django_capture_on_commit_callbacks


def track(api, **ids) -> dict:
    response = api.track(payload(events=TWO_EVENTS, **ids))
    assert response.status_code == 200, response.content
    return response.json()


def test_new_visitor_without_ids(warm_api, django_assert_num_queries, on_commit):
    """5 queries: SAVEPOINT; INSERT the session (the server makes up its id) and INSERT the
    profile, each `ON CONFLICT DO NOTHING RETURNING 1`; one INSERT of all 5 events (2 client,
    profile-created, session-opened, visit-started) `ON CONFLICT (id) DO NOTHING`; RELEASE."""
    with django_assert_num_queries(5), on_commit(execute=True):
        answer = track(warm_api)

    assert answer["session"]["id"] and answer["profile"]["id"]
    assert Event.objects.filter(profile_id=answer["profile"]["id"]).count() == 5


def test_new_visitor_with_a_fresh_session_id(warm_api, django_assert_num_queries, on_commit):
    """6 queries, as the browser tracker's first request (it makes up the session id): the 5 of
    a visitor without ids, plus the session touch (UPDATE ... FROM (SELECT ... FOR UPDATE)
    RETURNING) that finds no stored session before the session is inserted."""
    with django_assert_num_queries(6), on_commit(execute=True):
        answer = track(warm_api, session="s-fresh")

    assert answer["session"] == {"id": "s-fresh"}
    assert Event.objects.filter(session_id="s-fresh").count() == 5


def test_returning_visitor_within_the_visit(warm_api, django_assert_num_queries, on_commit):
    """1 query, in autocommit (apps/tracking/returning.py): the session touch, which applies
    only to a session of the profile id sent whose visit goes on, the page view added to the
    profile's stats.views, and the INSERT of the 2 events, as one statement. No transaction:
    no BEGIN and COMMIT round trips in production (SAVEPOINTs here)."""
    first = track(warm_api, session="s-back")

    with django_assert_num_queries(1), on_commit(execute=True):
        answer = track(warm_api, session="s-back", profile=first["profile"]["id"])

    assert answer["profile"] == first["profile"]
    assert Event.objects.filter(session_id="s-back").count() == 5 + 2


def test_returning_visitor_after_the_visit_timed_out(
    warm_api, django_assert_num_queries, on_commit
):
    """7 queries: the returning visitor's statement, which touches nothing (the visit timed
    out), then the general path's 6: SAVEPOINT; the session touch (its last activity is older than
    CDP_VISIT_TIMEOUT_MINUTES: a new visit; it adds the page view to stats.views); SELECT the
    profile's id, updated, visit_count, metadata and stats FOR UPDATE; UPDATE the profile
    (visit count, stats.visits and times); one INSERT of 3 events
    (2 client, visit-started); RELEASE."""
    first = track(warm_api, session="s-idle")
    Session.objects.filter(pk="s-idle").update(updated="2020-01-01T00:00:00Z")

    with django_assert_num_queries(7), on_commit(execute=True):
        track(warm_api, session="s-idle", profile=first["profile"]["id"])

    assert Profile.objects.get(pk=first["profile"]["id"]).visit_count == 2
    assert Event.objects.filter(session_id="s-idle", type="visit-started").count() == 2


def test_returning_visitor_whose_page_view_a_rule_answers(
    api, rest_source, settings, django_assert_num_queries, on_commit
):
    """6 queries in the one transaction (no second one of its own, no commit more): the 4 of
    a returning visitor within the visit on the general path (an answering rule routes the
    page view: no one-statement path, returning.py), i.e. SAVEPOINT, the session touch, the
    events' INSERT and RELEASE, then the answering step in two texts: SAVEPOINT
    with the profile's lock (bounded by the budget) and the reads of its collected events,
    the profile and the session; then INSERT the run, UPDATE the event, RESET the budget's
    timeouts and RELEASE SAVEPOINT (the workflow changed no profile field)."""
    workflow = WorkflowFactory(
        name="Offer", graph=linear_graph(("create_response", {"key": "offer", "body": {}}))
    )
    RuleFactory(name="Offer", workflow=workflow, event_type="page-view", answers_in_request=True)
    for name in CACHE_TTL_SETTINGS:
        setattr(settings, name, 3600)
    track(api, session="warm-up")
    first = track(api, session="s-answer")

    with django_assert_num_queries(6), on_commit(execute=True):
        answer = track(api, session="s-answer", profile=first["profile"]["id"])

    assert (answer["response"], answer["warnings"]) == ({"offer": {}}, [])
    assert WorkflowRun.objects.filter(in_request=True, status="ok").count() == 3
