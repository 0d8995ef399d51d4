"""The actions that read the database (issue 19): previous event, previous session, load a
profile by a field; and is-new-profile / is-new-visit on what /track stores."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.events.documents import event_document
from apps.events.models import Event
from apps.profiles.documents import profile_document, session_document
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.workflows.graphs import run_action

pytestmark = pytest.mark.django_db


def stored(profile, session, event_type, minutes_ago, **properties):
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return EventFactory(
        profile=profile,
        session=session,
        type=event_type,
        time=moment,
        inserted=moment,
        properties=properties,
    )


def current_event(profile, event_type="purchase"):
    now = timezone.now()
    return {
        "id": "current",
        "type": event_type,
        "profile": {"id": profile.pk},
        "metadata": {"time": {"create": now.isoformat(), "insert": now.isoformat()}},
        "properties": {},
    }


def test_previous_event_of_this_type_and_further_back():
    profile = ProfileFactory()
    session = SessionFactory(profile=profile)
    older = stored(profile, session, "purchase", 30, order="A")
    newer = stored(profile, session, "purchase", 10, order="B")
    stored(profile, session, "page-view", 5)
    stored(ProfileFactory(), None, "purchase", 1, order="someone else's")
    flow_profile = profile_document(profile)

    last, _ = run_action("previous_event", {}, profile=flow_profile, event=current_event(profile))
    before, _ = run_action(
        "previous_event", {"offset": -2}, profile=flow_profile, event=current_event(profile)
    )
    views, _ = run_action(
        "previous_event",
        {"event_type": "page-view", "offset": -2},
        payload="in",
        profile=flow_profile,
        event=current_event(profile),
    )

    assert last == [("found", event_document(Event.objects.get(pk=newer.pk)))]
    assert last[0][1]["properties"] == {"order": "B"}
    assert before[0][0] == "found"
    assert before[0][1]["id"] == older.pk
    assert views == [("not_found", "in")]


def test_previous_session_skips_the_current_one():
    profile = ProfileFactory()
    now = timezone.now()
    first = SessionFactory(profile=profile, created=now - timedelta(days=2))
    second = SessionFactory(profile=profile, created=now - timedelta(days=1))
    current = SessionFactory(profile=profile, created=now)
    SessionFactory(created=now - timedelta(hours=1))  # another profile's

    previous, _ = run_action(
        "previous_session",
        {},
        profile=profile_document(profile),
        session=session_document(current),
    )
    two_back, _ = run_action(
        "previous_session",
        {"offset": -2},
        profile=profile_document(profile),
        session=session_document(current),
    )
    none, _ = run_action(
        "previous_session",
        {"offset": -3},
        payload="in",
        profile=profile_document(profile),
        session=session_document(current),
    )

    assert previous == [("found", session_document(Session.objects.get(pk=second.pk)))]
    assert two_back[0][1]["id"] == first.pk
    assert none == [("not_found", "in")]


def test_load_profile_by_email_traits_and_id():
    jo = ProfileFactory(
        data={"contact": {"email": {"main": "Jo@Example.com"}}}, traits={"customer_no": 1001}
    )
    ProfileFactory(data={"contact": {"email": {"main": "ann@example.com"}}}, traits={})
    event = {"id": "e", "type": "t", "properties": {"email": "jo@example.COM", "no": 1001}}

    by_email, _ = run_action("load_profile_by_field", {}, event=event)
    by_trait, _ = run_action(
        "load_profile_by_field",
        {"field": "profile@traits.customer_no", "value": "event@properties.no"},
        event=event,
    )
    by_id, _ = run_action("load_profile_by_field", {"field": "profile@id", "value": jo.pk})

    expected = profile_document(Profile.objects.get(pk=jo.pk))
    assert by_email == [("profile", expected)]
    assert by_trait == [("profile", expected)]
    assert by_id == [("profile", expected)]


def test_load_profile_by_field_answers_none_or_many_on_error():
    for _ in range(2):
        ProfileFactory(traits={"club": "gold"})
    inactive = ProfileFactory(traits={"club": "silver"}, active=False)

    many, _ = run_action("load_profile_by_field", {"field": "profile@traits.club", "value": "gold"})
    none, _ = run_action(
        "load_profile_by_field", {"field": "profile@traits.club", "value": "silver"}
    )
    by_id, _ = run_action("load_profile_by_field", {"field": "profile@id", "value": inactive.pk})

    assert many == [
        ("error", {"message": "Found more than one profile with traits.club = 'gold'."})
    ]
    assert none == [("error", {"message": "Found no profile with traits.club = 'silver'."})]
    assert by_id == [("error", {"message": f"Found no profile with id = {inactive.pk!r}."})]


def test_new_profile_and_new_visit_on_what_track_stores():
    """The pipeline stamps the profile, the session and the events of one request with the
    same insert time: the first request's events are new, the second's are not."""
    event_source_create(name="Web", source_id="web")
    client = Client()

    def track(event_id, session_id, profile_id=None):
        body = {
            "source": {"id": "web"},
            "session": {"id": session_id},
            "events": [{"type": "page-view", "id": event_id, "properties": {}}],
        }
        if profile_id:
            body["profile"] = {"id": profile_id}
        answer = client.post("/track", json.dumps(body), content_type="application/json")
        assert answer.status_code == 200
        return answer.json()["profile"]["id"]

    def checks(event_id):
        event = Event.objects.get(pk=event_id)
        profile = profile_document(Profile.objects.get(pk=event.profile_id))
        session = session_document(Session.objects.get(pk=event.session_id))
        document = event_document(event)
        return [
            run_action(action, {}, payload=1, event=document, profile=profile, session=session)[0][
                0
            ][0]
            for action in ("new_profile", "new_visit")
        ]

    profile_id = track("first", "s-1")
    track("second", "s-1", profile_id)
    track("third", "s-2", profile_id)

    assert checks("first") == ["true", "true"]
    assert checks("second") == ["false", "false"]
    assert checks("third") == ["false", "true"]
