"""Tracardi's profile counters: stats.visits (the visit count) and stats.views (page views),
kept by /track in the statements it already runs, re-segmented by the worker, backfilled for
older profiles."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.events.models import Event
from apps.profiles.models import Profile, Segment, Session
from apps.profiles.services.segments import live_segments, segment_save
from apps.tracking.processing import profile_events_process
from apps.tracking.routing import event_needs_processing
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db

PAGE_VIEW = {"type": "page-view", "properties": {"url": "/a"}}
CLICK = {"type": "click", "properties": {}}


def track(api, events, **ids) -> str:
    response = api.track(payload(events=events, **ids))
    assert response.status_code == 200, response.content
    return response.json()["profile"]["id"]


def stats(profile_id: str) -> tuple[dict, int]:
    profile = Profile.objects.get(pk=profile_id)
    return profile.stats, profile.visit_count


def test_visits_and_page_views_are_counted_on_the_profile(api, rest_source, on_commit):
    profile_id = track(api, [PAGE_VIEW, CLICK, PAGE_VIEW], session="s1")
    assert stats(profile_id) == ({"visits": 1, "views": 2}, 1)

    # Same visit: the session touch adds the page view (no statement more).
    track(api, [PAGE_VIEW, CLICK], session="s1", profile=profile_id)
    assert stats(profile_id) == ({"visits": 1, "views": 3}, 1)

    # A new session of the same profile is a new visit.
    track(api, [CLICK], session="s2", profile=profile_id)
    assert stats(profile_id) == ({"visits": 2, "views": 3}, 2)

    # A session idle past the visit timeout: a new visit, with its page view.
    Session.objects.filter(pk="s1").update(updated="2020-01-01T00:00:00Z")
    track(api, [PAGE_VIEW], session="s1", profile=profile_id)
    assert stats(profile_id) == ({"visits": 3, "views": 4}, 3)
    assert Profile.objects.get(pk=profile_id).metadata["time"]["visit"]["count"] == 3


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        yield


def test_counters_survive_values_a_workflow_wrote(api, rest_source, on_commit):
    profile_id = track(api, [CLICK], session="s1")
    Profile.objects.filter(pk=profile_id).update(stats={"views": "many", "spent": 10})
    track(api, [PAGE_VIEW], session="s1", profile=profile_id)
    assert stats(profile_id) == ({"views": 1, "spent": 10}, 1)


def test_nothing_is_counted_without_a_stored_profile(api, rest_source, on_commit):
    profile_id = track(api, [PAGE_VIEW], session="s1", options={"saveProfile": False})
    assert not Profile.objects.filter(pk=profile_id).exists()


def test_the_worker_gets_the_counters_events_only_when_a_live_segment_reads_them(rest_source):
    assert not event_needs_processing(source_id="web-source", event_type="visit-started")
    assert not event_needs_processing(source_id="web-source", event_type="page-view")

    segment_save(segment=Segment(name="Returning", condition="profile@stats.visits > 1"))
    assert event_needs_processing(source_id="web-source", event_type="visit-started")
    assert not event_needs_processing(source_id="web-source", event_type="page-view")

    segment_save(segment=Segment(name="Readers", condition="profile@stats.views >= 10"))
    assert event_needs_processing(source_id="web-source", event_type="page-view")
    assert not event_needs_processing(source_id="web-source", event_type="click")


@pytest.mark.parametrize(
    "condition",
    [
        "profile@stats.visits > 1",
        "profile@stats EXISTS",
        "profile@... EXISTS",
        "profile@metadata.time.visit.count > 1",
    ],
)
def test_reading_the_counter_or_what_holds_it_routes_visits(rest_source, condition):
    segment_save(segment=Segment(name="S", condition=condition))
    assert event_needs_processing(source_id="web-source", event_type="visit-started")


def test_processing_a_new_visit_re_evaluates_live_segments(api, rest_source, on_commit):
    segment_save(segment=Segment(name="Returning", condition="profile@stats.visits > 1"))
    profile_id = track(api, [CLICK], session="s1")
    track(api, [CLICK], session="s2", profile=profile_id)

    # /track counted the visit but did not segment (that is the worker's).
    assert Profile.objects.get(pk=profile_id).segments == []
    waiting = Event.objects.filter(profile_id=profile_id, status=Event.Status.COLLECTED)
    assert sorted(waiting.values_list("type", flat=True)) == ["visit-started", "visit-started"]

    assert profile_events_process(profile_id=profile_id).events == 2
    assert Profile.objects.get(pk=profile_id).segments == ["returning"]


def test_a_page_view_re_evaluates_segments_that_read_views(rest_source, api, on_commit):
    segment_save(segment=Segment(name="Readers", condition="profile@stats.views >= 3"))
    live_segments.cache_clear()
    profile_id = track(api, [PAGE_VIEW, PAGE_VIEW], session="s1")
    profile_events_process(profile_id=profile_id)
    assert Profile.objects.get(pk=profile_id).segments == []

    track(api, [PAGE_VIEW], session="s1", profile=profile_id)
    profile_events_process(profile_id=profile_id)
    assert Profile.objects.get(pk=profile_id).segments == ["readers"]


def test_backfill_sets_the_counters_of_older_profiles():
    a = ProfileFactory(id="a", visit_count=3, stats={"spent": 10})
    b = ProfileFactory(id="b", visit_count=1, stats={"views": 7})  # unsaved page views counted
    ProfileFactory(id="c", visit_count=0, stats=[])
    for number in range(2):
        EventFactory(id=f"a-view-{number}", profile=a, session=None, type="page-view")
    EventFactory(id="a-click", profile=a, session=None, type="click")
    EventFactory(id="b-view", profile=b, session=None, type="page-view")
    Segment.objects.create(name="Readers", slug="readers", condition="profile@stats.views > 1")
    Segment.objects.create(name="Named", slug="named", condition="profile@traits.name EXISTS")

    out = StringIO()
    call_command("profile_stats_backfill", "--batch-size", "2", stdout=out)
    call_command("profile_stats_backfill", "--no-evaluate", stdout=StringIO())  # idempotent

    assert dict(Profile.objects.values_list("pk", "stats")) == {
        "a": {"spent": 10, "visits": 3, "views": 2},
        "b": {"visits": 1, "views": 7},
        "c": {"visits": 0, "views": 0},
    }
    assert out.getvalue().endswith(
        "stats.visits and stats.views set on 3 profiles.\n"
        "Evaluation of segment 'Readers' started.\n"
    )
    assert Segment.objects.get(slug="readers").evaluation_status == "running"
    assert Segment.objects.get(slug="named").evaluation_status == ""
