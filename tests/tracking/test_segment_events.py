"""Segment triggers (issue 18 item 3): every segment entry and exit stores one
`segment-entered` / `segment-left` system event of the internal source, from live segmentation
and from the evaluation sweep alike, and rules can watch one segment."""

import pytest

from apps.events.models import Event
from apps.profiles.models import Profile, Segment, SegmentTransition
from apps.profiles.services.segments import segment_sweep_batch, segments_refresh_live
from apps.sources.models import INTERNAL_SOURCE_ID, EventSource
from apps.tracking.processing import profile_events_process
from apps.tracking.segment_events import transition_event_id
from apps.workflows.admin.forms import RuleForm
from apps.workflows.models import WorkflowRun
from tests.profiles.factories import SegmentFactory
from tests.workflows.factories import ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

SEGMENT_TYPES = ("segment-entered", "segment-left")


def segment_events():
    return [
        (e.id, e.type, e.source_id, e.profile_id, e.session_id, e.status, e.properties)
        for e in Event.objects.filter(type__in=SEGMENT_TYPES).order_by("time", "profile_id")
    ]


def transition_ids():
    return list(SegmentTransition.objects.order_by("id").values_list("id", flat=True))


def test_live_segmentation_stores_one_entered_then_one_left_event():
    vip = SegmentFactory(name="VIP", condition='profile@traits.plan == "pro"', kind="live")
    ProfileFactory(id="ann", traits={"plan": "pro"})

    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])
    # Re-evaluated with no change of membership: no transition, no event.
    Profile.objects.filter(pk="ann").update(traits={"plan": "pro", "seen": 1})
    segments_refresh_live(profile_id="ann", changed_fields=["traits.seen"])
    Profile.objects.filter(pk="ann").update(traits={"plan": "free"})
    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])

    entered, left = transition_ids()
    segment = {"id": vip.pk, "name": "VIP", "slug": "vip"}
    assert segment_events() == [
        (
            transition_event_id(entered),
            "segment-entered",
            INTERNAL_SOURCE_ID,
            "ann",
            None,
            "processed",
            {"segment": segment, "cause": "live"},
        ),
        (
            transition_event_id(left),
            "segment-left",
            INTERNAL_SOURCE_ID,
            "ann",
            None,
            "processed",
            {"segment": segment, "cause": "live"},
        ),
    ]
    source = EventSource.objects.get(pk=INTERNAL_SOURCE_ID)
    assert (source.name, source.enabled) == ("Internal (system events)", False)


def test_the_sweep_stores_one_event_per_profile_that_moved_and_none_when_run_again():
    frequent = SegmentFactory(
        name="Frequent", condition="profile@stats.visits > 3", kind=Segment.Kind.SCHEDULED
    )
    visits = {"p1": 5, "p2": 1, "p3": 9, "p4": 0}
    for pid, count in visits.items():
        ProfileFactory(
            id=pid, stats={"visits": count}, segments=["frequent"] if pid == "p2" else []
        )

    assert segment_sweep_batch(segment_id=frequent.pk, after_id="", batch_size=10) is None
    assert segment_sweep_batch(segment_id=frequent.pk, after_id="", batch_size=10) is None

    rows = dict(SegmentTransition.objects.values_list("profile_id", "id"))
    segment = {"id": frequent.pk, "name": "Frequent", "slug": "frequent"}
    assert sorted(segment_events()) == sorted(
        [
            (
                transition_event_id(rows[pid]),
                kind,
                INTERNAL_SOURCE_ID,
                pid,
                None,
                "processed",
                {"segment": segment, "cause": "sweep"},
            )
            for pid, kind in (
                ("p1", "segment-entered"),
                ("p2", "segment-left"),
                ("p3", "segment-entered"),
            )
        ]
    )


def test_a_routed_segment_event_waits_for_a_worker_and_the_other_does_not():
    SegmentFactory(name="VIP", condition='profile@traits.plan == "pro"', kind="live")
    RuleFactory(event_type="segment-entered")
    ProfileFactory(id="ann", traits={"plan": "pro"})

    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])
    Profile.objects.filter(pk="ann").update(traits={"plan": "free"})
    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])

    assert [(kind, status) for _, kind, _, _, _, status, _ in segment_events()] == [
        ("segment-entered", "collected"),
        ("segment-left", "processed"),
    ]


def test_a_rule_watching_a_segment_runs_its_workflow_for_that_segment_only():
    vip = SegmentFactory(name="VIP", condition='profile@traits.plan == "pro"', kind="live")
    SegmentFactory(name="Paying", condition="profile@traits.plan EXISTS", kind="live")
    workflow = WorkflowFactory(
        graph=linear_graph(
            (
                "copy_data",
                {"traits": {"set": {"profile@traits.welcomed": "event@properties.segment.name"}}},
            )
        )
    )
    RuleFactory(event_type="segment-entered", workflow=workflow, segment=vip)
    ProfileFactory(id="ann", traits={"plan": "pro"})

    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])
    profile_events_process(profile_id="ann")

    vip_entered = SegmentTransition.objects.get(segment="vip").pk
    assert list(WorkflowRun.objects.values_list("event_ref", "workflow_id", "status")) == [
        (transition_event_id(vip_entered), workflow.pk, "ok")
    ]
    assert Profile.objects.get(pk="ann").traits == {"plan": "pro", "welcomed": "VIP"}
    assert sorted(
        Event.objects.filter(type="segment-entered").values_list(
            "properties__segment__slug", "status"
        )
    ) == [("paying", "processed"), ("vip", "processed")]


def test_the_rule_form_offers_the_segment_only_for_segment_events():
    vip = SegmentFactory(name="VIP")
    workflow = WorkflowFactory()
    data = {"name": "Tell sales", "workflow": workflow.pk, "segment": vip.pk, "enabled": "on"}

    wrong = RuleForm(data={**data, "event_type": "page-view"})
    right = RuleForm(data={**data, "event_type": "Segment entered"})

    assert wrong.errors == {
        "segment": [
            "A segment to watch is for the segment-entered and segment-left events only: set "
            "the event type to one of them, or clear the segment."
        ]
    }
    assert right.errors == {}
    rule = right.save()
    assert (rule.event_type, rule.segment_id) == ("segment-entered", vip.pk)
