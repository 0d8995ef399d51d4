"""Segment triggers with a real worker: a rule on segment-entered, watching VIP, runs its
workflow, which sends a webhook to a local HTTP server, once per entry, whether the entry came
from live segmentation or from the scheduled sweep; entries into other segments send nothing."""

import pytest

from apps.profiles.models import Profile, Segment
from apps.profiles.services.segments import segment_sweep_batch, segments_refresh_live
from apps.workflows.models import WorkflowRun
from tests.profiles.factories import SegmentFactory
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker_factory,
    purge_broker_queue,
    wait_for,
)
from tests.workflows.factories import ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def remote():
    server = RecordingServer().start()
    purge_broker_queue()
    yield server
    server.stop()
    purge_broker_queue()


def tell_sales(url: str, segment: Segment) -> None:
    body = {
        "profile": "profile@id",
        "segment": "event@properties.segment.name",
        "cause": "event@properties.cause",
    }
    workflow = WorkflowFactory(
        name="Tell sales",
        graph=linear_graph(("remote_call", {"url": url, "timeout": 10, "body": body})),
    )
    RuleFactory(
        name="VIP entered", event_type="segment-entered", workflow=workflow, segment=segment
    )


def test_live_and_swept_entries_each_send_one_webhook(remote, celery_worker_factory):  # noqa: F811
    live_vip = SegmentFactory(name="VIP", condition='profile@traits.plan == "pro"', kind="live")
    SegmentFactory(name="Anyone", condition="profile@traits.plan EXISTS", kind="live")
    tell_sales(remote.url, live_vip)
    worker = celery_worker_factory()
    ProfileFactory(id="ann", traits={"plan": "pro"})

    # Live: the profile changed; the transition's event is handed to the worker at commit.
    segments_refresh_live(profile_id="ann", changed_fields=["traits.plan"])
    wait_for(lambda: len(remote.requests) == 1, timeout=90, message="the live entry's webhook")

    # Scheduled: the sweep moves two profiles into VIP, now a scheduled segment (and ann out
    # of it: segment-left, which no rule routes).
    Segment.objects.filter(pk=live_vip.pk).update(
        kind=Segment.Kind.SCHEDULED, condition="profile@stats.visits > 3"
    )
    ProfileFactory(id="bob", stats={"visits": 5})
    ProfileFactory(id="cid", stats={"visits": 9})
    ProfileFactory(id="dan", stats={"visits": 1})
    assert segment_sweep_batch(segment_id=live_vip.pk, after_id="", batch_size=10) is None
    wait_for(lambda: len(remote.requests) == 3, timeout=90, message="the swept entries' webhooks")
    worker.wait_idle()

    sent = [
        (r["json"]["profile"], r["json"]["segment"], r["json"]["cause"]) for r in remote.requests
    ]
    # The live one first; the two swept ones run in whichever order the worker takes them.
    assert sent[0] == ("ann", "VIP", "live")
    assert sorted(sent[1:]) == [("bob", "VIP", "sweep"), ("cid", "VIP", "sweep")]
    assert sorted(WorkflowRun.objects.values_list("profile_id", "event_type", "status")) == [
        ("ann", "segment-entered", "ok"),
        ("bob", "segment-entered", "ok"),
        ("cid", "segment-entered", "ok"),
    ]
    assert Profile.objects.get(pk="ann").segments == ["anyone"]
