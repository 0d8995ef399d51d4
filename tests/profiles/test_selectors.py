from datetime import timedelta

import pytest
from django.utils import timezone

from apps.profiles.selectors import (
    profile_find,
    profile_id_is_forgotten,
    profile_id_resolve,
    profile_related_counts,
    profile_timeline,
    session_event_count,
)
from apps.profiles.services.erasure import profile_forget
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SessionFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def test_a_profile_is_found_by_its_id_or_a_merged_id_and_resolves_to_its_id():
    profile = ProfileFactory(id="alice", ids=["alice-phone"])

    assert profile_find(profile_id="alice") == profile
    assert profile_find(profile_id="alice-phone", lock=True) == profile
    assert profile_find(profile_id="bob") is None
    assert profile_id_resolve(profile_id="alice-phone", static=False).id == "alice"
    assert profile_id_resolve(profile_id="bob", static=False) is None


def test_an_erased_profiles_ids_are_forgotten():
    ProfileFactory(id="alice", ids=["alice-phone"])
    profile_forget(profile_id="alice", actor="dpo")

    assert profile_id_is_forgotten("alice-phone") is True
    assert profile_id_is_forgotten("bob") is False


def test_sessions_and_events_are_counted_through_the_followers_up_to_a_cap():
    profile = ProfileFactory()
    first, second = SessionFactory(profile=profile), SessionFactory(profile=profile)
    for session in (first, first, second):
        EventFactory(profile=profile, session=session)

    counts = profile_related_counts(profile_id=profile.pk, cap=2)

    assert (counts["sessions"].label, counts["events"].label) == ("2", "more than 2")
    assert session_event_count(session_id=first.pk).label == "2"


def test_the_timeline_pages_the_profiles_events_newest_first():
    profile = ProfileFactory()
    events = [
        EventFactory(id=f"e{n}", profile=profile, time=T0 + timedelta(minutes=n)) for n in range(3)
    ]
    EventFactory()  # another profile's

    page = profile_timeline(profile_id=profile.pk, offset=1, limit=5)

    assert [event.pk for event in page] == [events[1].pk, events[0].pk]
