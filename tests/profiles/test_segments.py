import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from apps import notation
from apps.events.models import EventType, EventTypeMapping
from apps.events.services import event_mappings_process
from apps.profiles.models import Profile, Segment
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.segments import (
    segment_add_if,
    segment_member_count,
    segment_save,
    segment_sweep_batch,
    segments_refresh_live,
)
from apps.profiles.tasks import SWEEP_KEY, segments_refresh_scheduled
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.support.celery_worker import celery_worker_factory, wait_for  # noqa: F401

FREQUENT = "profile@stats.visits > 3"


@pytest.mark.django_db
def test_a_segment_is_stored_under_its_slug_and_its_condition_is_checked():
    segment = segment_save(segment=Segment(name="  Frequent  Visitor ", condition=FREQUENT))
    assert segment.slug == "frequent-visitor"

    with pytest.raises(ValidationError) as caught:
        segment_save(segment=Segment(name="frequent visitor", condition="profile@stats.visits >"))
    assert caught.value.message_dict == {
        "name": [
            "Another segment is already stored as 'frequent-visitor' (names differing only in "
            "case or spaces are the same segment)."
        ],
        "condition": [
            "Unexpected end of the condition at column 23; expected a value (number, string, "
            "field reference, function call)"
        ],
    }


@pytest.mark.django_db
def test_live_segments_follow_every_profile_change():
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    profile = ProfileFactory(stats={"visits": 5}, segments=["from-a-workflow"])

    assert segments_refresh_live(profile_id=profile.pk, changed_fields=["stats.visits"]) == [
        "from-a-workflow",
        "frequent-visitor",
    ]
    profile.refresh_from_db()
    assert profile.segments == ["from-a-workflow", "frequent-visitor"]
    assert profile.metadata["time"]["segmentation"] == profile.updated.isoformat()

    Profile.objects.filter(pk=profile.pk).update(stats={"visits": 1})
    profile_changed(profile_id=profile.pk, changed_fields=["stats.visits"])
    profile.refresh_from_db()
    assert profile.segments == ["from-a-workflow"]


@pytest.mark.django_db
def test_a_change_of_the_segments_alone_is_not_segmented_again(django_assert_num_queries):
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    profile = ProfileFactory(stats={"visits": 5})

    with django_assert_num_queries(0):
        assert segments_refresh_live(profile_id=profile.pk, changed_fields=["segments"]) is None
    profile.refresh_from_db()
    assert profile.segments == []


@pytest.mark.django_db
def test_segmentation_reports_its_own_change_once(monkeypatch, django_capture_on_commit_callbacks):
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    profile = ProfileFactory(stats={"visits": 5})
    reported = []

    def spy(*, profile_id, changed_fields):
        reported.append((profile_id, list(changed_fields)))
        profile_changed(profile_id=profile_id, changed_fields=changed_fields)

    monkeypatch.setattr("apps.profiles.services.segments.profile_changed", spy)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        segments_refresh_live(profile_id=profile.pk, changed_fields=["stats.visits"])

    # Reported once, in the transaction: the subscribers it ran found nothing more to do.
    assert reported == [(profile.pk, ["segments"])]
    assert callbacks == []
    profile.refresh_from_db()
    assert profile.segments == ["frequent-visitor"]


@pytest.mark.django_db
def test_without_live_segments_a_change_costs_no_query(django_assert_num_queries):
    SegmentFactory(kind=Segment.Kind.SCHEDULED)
    profile = ProfileFactory()
    segments_refresh_live(profile_id=profile.pk, changed_fields=["traits.x"])  # loads the cache

    with django_assert_num_queries(0):
        assert segments_refresh_live(profile_id=profile.pk, changed_fields=["traits.x"]) is None


@pytest.mark.django_db
def test_a_condition_that_cannot_be_evaluated_on_a_profile_does_not_hold():
    segment_save(
        segment=Segment(
            name="Recent", condition='datetime(profile@traits.seen) > now.offset("-1d")'
        )
    )
    profile = ProfileFactory(traits={})

    assert segments_refresh_live(profile_id=profile.pk, changed_fields=["traits.x"]) is None


@pytest.mark.django_db(transaction=True)
def test_mappings_and_merges_trigger_live_segmentation():
    segment_save(segment=Segment(name="Big spender", condition="profile@stats.spent >= 100"))
    kind = EventType.objects.create(type="purchase", name="Purchase")
    EventTypeMapping.objects.create(
        event_type=kind, profile_path="stats.spent", event_path="properties.total", operation="add"
    )
    first = ProfileFactory(stats={"spent": 0})
    event = EventFactory(profile=first, type="purchase", properties={"total": 60})
    second = ProfileFactory(stats={"spent": 50})

    event_mappings_process(event_ids=[event.pk])
    first.refresh_from_db()
    assert (first.stats, first.segments) == ({"spent": 60}, [])

    survivor = profiles_merge(profile_ids=[first.pk, second.pk], reason="r", actor="a")
    survivor.refresh_from_db()
    assert (survivor.stats, survivor.segments) == ({"spent": 110}, ["big-spender"])


@pytest.mark.django_db
def test_a_scheduled_sweep_goes_through_all_profiles_in_keyset_batches():
    segment = SegmentFactory(name="Frequent", condition=FREQUENT, kind=Segment.Kind.SCHEDULED)
    visits = {"p1": 5, "p2": 1, "p3": 9, "p4": 0, "p5": 4}
    for pid, count in visits.items():
        ProfileFactory(
            id=pid, stats={"visits": count}, segments=["frequent"] if pid == "p2" else []
        )

    cursors = []
    cursor = ""
    while cursor is not None:
        cursor = segment_sweep_batch(segment_id=segment.pk, after_id=cursor, batch_size=2)
        cursors.append(cursor)

    assert cursors == ["p2", "p4", None]
    members = dict(Profile.objects.values_list("pk", "segments"))
    assert members == {
        "p1": ["frequent"],
        "p2": [],
        "p3": ["frequent"],
        "p4": [],
        "p5": ["frequent"],
    }
    segment.refresh_from_db()
    assert segment.last_evaluated_at is not None
    assert segment_member_count(segment=segment).value == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sweeps_scheduled_segments_on_a_worker(celery_worker_factory):  # noqa: F811
    celery_worker_factory(extra_env={"CDP_SEGMENT_BATCH_SIZE": "3"})
    segment = SegmentFactory(name="Frequent", condition=FREQUENT, kind=Segment.Kind.SCHEDULED)
    SegmentFactory(name="Off", condition=FREQUENT, kind=Segment.Kind.SCHEDULED, enabled=False)
    for number in range(10):
        ProfileFactory(id=f"p{number:02}", stats={"visits": number})
    cache.delete(SWEEP_KEY.format(segment.pk))

    assert segments_refresh_scheduled() == 1
    assert segments_refresh_scheduled() == 0  # one sweep at a time per segment

    wait_for(
        lambda: Segment.objects.get(pk=segment.pk).last_evaluated_at is not None,
        timeout=20,
        message="the sweep to finish",
    )
    members = sorted(
        Profile.objects.filter(segments__contains=["frequent"]).values_list("pk", flat=True)
    )
    assert members == ["p04", "p05", "p06", "p07", "p08", "p09"]
    assert not Profile.objects.filter(segments__contains=["off"]).exists()
    wait_for(lambda: cache.get(SWEEP_KEY.format(segment.pk)) is None, timeout=5)


def test_add_segment_if_condition():
    profile = {"segments": ["a"], "stats": {"visits": 4}}
    data = {"profile": profile, "event": {"type": "purchase"}}

    assert segment_add_if(
        profile=profile, segment="Buyers", condition='event@type == "purchase"', data=data
    )
    assert segment_add_if(
        profile=profile, segment="buyers", condition="profile@stats.visits > 3", data=data
    )
    assert not segment_add_if(
        profile=profile, segment="Other", condition="profile@stats.visits > 9", data=data
    )
    assert profile["segments"] == ["a", "buyers"]
    with pytest.raises(notation.NotationError):
        segment_add_if(profile=profile, segment="x", condition="profile@ >", data=data)


@pytest.mark.django_db
def test_saving_begins_an_evaluation_when_the_condition_kind_or_enabled_flag_changes():
    ProfileFactory(id="p1"), ProfileFactory(id="p2")
    segment = segment_save(segment=Segment(name="Frequent", condition=FREQUENT))
    runs = [segment.evaluation_run]
    assert (segment.evaluation_status, segment.evaluation_total) == ("running", 2)

    segment.description = "only the description"
    segment_save(segment=segment)
    segment.condition = "profile@stats.visits > 4"
    segment_save(segment=segment)
    runs.append(segment.evaluation_run)
    segment.enabled = False
    segment_save(segment=segment)
    runs.append(segment.evaluation_run)  # disabled: not evaluated
    segment.enabled = True
    segment_save(segment=segment)
    runs.append(segment.evaluation_run)
    segment.kind = Segment.Kind.SCHEDULED
    segment_save(segment=segment)
    runs.append(segment.evaluation_run)

    assert [len(set(runs[: index + 1])) for index in range(len(runs))] == [1, 2, 2, 3, 4]
    assert Segment.objects.get(pk=segment.pk).evaluation_run == runs[-1]
