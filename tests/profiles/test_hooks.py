"""The two hooks profiles publishes, as the apps above it fill them in AppConfig.ready()."""

import pytest

from apps.destinations.models import Delivery
from apps.destinations.services.scheduling import profile_deliveries_schedule
from apps.events.models import Event
from apps.profiles.hooks import profile_change_subscribers, profile_followers
from apps.profiles.models import ConsentChange, Entity, Session
from apps.profiles.services.segments import segments_refresh_live
from apps.workflows.models import ParkedRun, WorkflowRun
from tests.destinations.factories import DestinationFactory
from tests.profiles.factories import ProfileFactory


def test_live_segments_see_a_change_first_then_destination_syncs():
    assert profile_change_subscribers() == (segments_refresh_live, profile_deliveries_schedule)


def test_events_sessions_consents_runs_and_deliveries_follow_a_profile_under_their_keys():
    followers = {follower.key: follower for follower in profile_followers()}

    assert {key: follower.model for key, follower in followers.items()} == {
        "events": Event,
        "sessions": Session,
        "consent_changes": ConsentChange,
        "entities": Entity,
        "workflow_runs": WorkflowRun,
        "deliveries": Delivery,
        "parked_runs": ParkedRun,
    }
    assert followers["events"].session_field == "session"
    assert followers["deliveries"].before_merge is not None
    # Erased before what they point at: runs and deliveries, then events, then sessions.
    assert (
        followers["workflow_runs"].erase_rank
        == followers["deliveries"].erase_rank
        < followers["events"].erase_rank
        < followers["sessions"].erase_rank
    )
    # Waiting branches go first (they name the runs they belong to).
    assert followers["parked_runs"].erase_rank < followers["workflow_runs"].erase_rank


@pytest.mark.django_db
def test_a_merge_drops_the_pending_syncs_of_the_merged_profiles_only():
    destination = DestinationFactory()
    for profile_id in ("survivor", "merged"):
        profile_deliveries_schedule(
            profile_id=ProfileFactory(id=profile_id).pk, changed_fields=["traits"]
        )
    deliveries = next(follower for follower in profile_followers() if follower.key == "deliveries")

    deliveries.before_merge(["merged"], "survivor")

    assert list(
        Delivery.objects.filter(destination=destination).values_list("profile_id", flat=True)
    ) == ["survivor"]
