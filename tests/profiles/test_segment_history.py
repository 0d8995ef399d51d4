"""Segment history: one SegmentTransition per real entry or exit, written with the change,
by live segmentation, the sweep, workflows and merges; it follows the profile through merge,
undo and erasure, and the profile page shows it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from apps.profiles.models import MergeRecord, Profile, Segment, SegmentTransition
from apps.profiles.services.erasure import erasure_proceed, profile_forget
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.services.purge import profiles_purge_anonymous
from apps.profiles.services.segment_history import segment_transitions_record
from apps.profiles.services.segments import (
    segment_save,
    segment_sweep_batch,
    segments_refresh_live,
)
from apps.tracking.processing import profile_events_process
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.workflows.factories import EventFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

FREQUENT = "profile@stats.visits > 3"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SHOTS = Path("/tmp/shots-wt-search")
PASSWORD = "history-test-password"

pytestmark = pytest.mark.django_db


def history(profile_id: str) -> list[tuple]:
    return list(
        SegmentTransition.objects.filter(profile_id=profile_id)
        .order_by("at", "id")
        .values_list("segment", "segment_name", "entered", "cause")
    )


def all_history() -> list[tuple]:
    return list(
        SegmentTransition.objects.order_by("profile_id", "at", "id").values_list(
            "profile_id", "segment", "segment_name", "entered", "cause"
        )
    )


def test_live_segmentation_records_an_entry_and_an_exit_once():
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    profile = ProfileFactory(id="p", stats={"visits": 5}, segments=["from-a-workflow"])

    segments_refresh_live(profile_id="p", changed_fields=["stats.visits"])
    # Still a member: no row.
    segments_refresh_live(profile_id="p", changed_fields=["stats.visits"])
    entered = SegmentTransition.objects.get()
    profile.refresh_from_db()
    # Written with the change: the time the segmentation stamped on the profile.
    assert entered.at.isoformat() == profile.metadata["time"]["segmentation"]
    Profile.objects.filter(pk="p").update(stats={"visits": 1})
    segments_refresh_live(profile_id="p", changed_fields=["stats.visits"])

    assert history("p") == [
        ("frequent-visitor", "Frequent visitor", True, "live"),
        ("frequent-visitor", "Frequent visitor", False, "live"),
    ]
    profile.refresh_from_db()
    assert profile.segments == ["from-a-workflow"]


def test_no_row_when_the_membership_did_not_change():
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    ProfileFactory(id="in", stats={"visits": 5}, segments=["frequent-visitor"])
    ProfileFactory(id="out", stats={"visits": 1})

    segments_refresh_live(profile_id="in", changed_fields=["stats.visits"])
    segments_refresh_live(profile_id="out", changed_fields=["stats.visits"])

    assert (
        segment_transitions_record(profile_id="in", before=["a"], after=["a"], cause="live") == []
    )
    assert SegmentTransition.objects.count() == 0


def test_a_sweep_records_the_profiles_that_entered_and_left_in_one_insert():
    segment = SegmentFactory(name="Frequent", condition=FREQUENT, kind=Segment.Kind.SCHEDULED)
    visits = {"p1": 5, "p2": 1, "p3": 9, "p4": 0, "p5": 4, "p6": 7}
    for pid, count in visits.items():
        ProfileFactory(
            id=pid, stats={"visits": count}, segments=["frequent"] if pid in ("p2", "p6") else []
        )

    with CaptureQueriesContext(connection) as queries:
        assert segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=10) is None

    inserts = [q["sql"] for q in queries if 'INSERT INTO "profiles_segmenttransition"' in q["sql"]]
    assert len(inserts) == 1
    # Their segment-entered / segment-left events: one insert for the batch too.
    event_inserts = [
        q["sql"] for q in queries if q["sql"].lstrip().startswith("INSERT INTO events_event")
    ]
    assert len(event_inserts) == 1
    assert all_history() == [
        ("p1", "frequent", "Frequent", True, "sweep"),
        ("p2", "frequent", "Frequent", False, "sweep"),
        ("p3", "frequent", "Frequent", True, "sweep"),
        ("p5", "frequent", "Frequent", True, "sweep"),
    ]
    # All of one batch at one time; a second sweep changes nothing and records nothing.
    assert SegmentTransition.objects.values("at").distinct().count() == 1
    segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=10)
    assert SegmentTransition.objects.count() == 4


def test_workflow_actions_record_their_segment_changes():
    workflow = WorkflowFactory(
        graph=linear_graph(
            ("add_segment", {"segment": "Tried it"}),
            ("remove_segment", {"segment": "newcomer"}),
        )
    )
    RuleFactory(workflow=workflow, event_type="page-view")
    profile = ProfileFactory(id="w", segments=["newcomer", "vip"])
    EventFactory(profile=profile, session=None)

    profile_events_process(profile_id="w")

    assert Profile.objects.get(pk="w").segments == ["vip", "tried-it"]
    assert history("w") == [
        ("tried-it", "tried-it", True, "workflow"),
        ("newcomer", "newcomer", False, "workflow"),
    ]


def test_a_merge_moves_the_history_to_the_survivor_and_records_what_it_gains():
    survivor = ProfileFactory(id="alice", segments=["vip"])
    merged = ProfileFactory(id="phone", segments=["mobile", "vip"])
    SegmentTransition.objects.create(
        profile=merged, segment="mobile", segment_name="Mobile", entered=True, at=T0, cause="live"
    )
    SegmentTransition.objects.create(
        profile=survivor, segment="vip", segment_name="VIP", entered=True, at=T0, cause="sweep"
    )

    assert profiles_merge(profile_ids=["alice", "phone"], reason="r", actor="a").pk == "alice"

    assert all_history() == [
        ("alice", "mobile", "Mobile", True, "live"),
        ("alice", "vip", "VIP", True, "sweep"),
        ("alice", "mobile", "mobile", True, "merge"),
    ]
    moved = SegmentTransition.objects.get(cause="live").pk
    assert MergeRecord.objects.get().repointed["segment_transitions"] == {"phone": [str(moved)]}

    merge_undo(merge_id=MergeRecord.objects.get().pk, actor="a")

    assert all_history() == [
        ("alice", "vip", "VIP", True, "sweep"),
        ("alice", "mobile", "mobile", True, "merge"),
        ("alice", "mobile", "mobile", False, "merge"),
        ("phone", "mobile", "Mobile", True, "live"),
    ]
    assert SegmentTransition.objects.get(cause="live").pk == moved


def test_erasure_removes_the_history_with_the_profile():
    gone = ProfileFactory(id="gone", segments=["vip"])
    kept = ProfileFactory(id="kept")
    for profile in (gone, kept):
        SegmentTransition.objects.create(
            profile=profile, segment="vip", segment_name="VIP", entered=True, at=T0, cause="live"
        )

    assert erasure_proceed(erasure_id=profile_forget(profile_id="gone", actor="dpo").pk)

    assert all_history() == [("kept", "vip", "VIP", True, "live")]


def test_a_purged_anonymous_profile_takes_its_history_with_it():
    old = T0 - timedelta(days=400)
    for pid in ("stale", "recent"):
        profile = ProfileFactory(id=pid, updated=old if pid == "stale" else T0)
        SegmentTransition.objects.create(
            profile=profile, segment="vip", segment_name="VIP", entered=True, at=old, cause="live"
        )

    deleted = profiles_purge_anonymous(profile_ids=["stale", "recent"], before=T0)

    assert deleted == {"profiles.Profile": 1, "profiles.SegmentTransition": 1}
    assert all_history() == [("recent", "vip", "VIP", True, "live")]


def test_the_profile_page_shows_the_last_50_changes_newest_first_and_counts_the_rest(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    profile = ProfileFactory(id="p", segments=["vip"])
    SegmentTransition.objects.bulk_create(
        SegmentTransition(
            profile=profile,
            segment="vip",
            segment_name="VIP customers",
            entered=index % 2 == 0,
            at=T0 + timedelta(minutes=index),
            cause="sweep" if index % 2 else "live",
        )
        for index in range(53)
    )
    ProfileFactory(id="quiet")

    page = client.get(reverse("admin:profiles_profile_change", args=["p"]))
    quiet = client.get(reverse("admin:profiles_profile_change", args=["quiet"]))

    section = page.context["person_sections"][0]
    assert (section["key"], section["title"]) == (
        "segment-history",
        "Segment history (newest first)",
    )
    assert section["columns"] == ["when", "change", "segment", "why"]
    assert len(section["rows"]) == 50
    newest, second = section["rows"][0], section["rows"][1]
    assert [str(cell) for cell in newest] == [
        '<span title="2026-03-01T10:22:00+00:00">1 Mar 2026, 10:22</span>',
        '<strong style="color: #2a7d2a">entered</strong>',
        "VIP customers",
        "Live segmentation (a profile change)",
    ]
    assert [str(cell) for cell in second][1:] == [
        '<span style="color: #b24a1e">left</span>',
        "VIP customers",
        "Evaluation over all profiles",
    ]
    assert section["note"] == "3 older change(s) not shown."
    html = page.content.decode()
    assert "Segment history (newest first)" in html
    assert "1 Mar 2026, 10:22" in html
    assert "3 older change(s) not shown." in html
    assert "This person never entered or left a segment." in quiet.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_segment_history_on_the_profile_page_in_the_browser(browser, live_server):
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)
    segment_save(segment=Segment(name="Frequent visitor", condition=FREQUENT))
    segment_save(segment=Segment(name="Big spender", condition="profile@stats.spent >= 100"))
    ProfileFactory(
        id="ann",
        stats={"visits": 5, "spent": 20},
        segments=["newsletter"],
        data={
            "pii": {"firstname": "Ann", "lastname": "Smith"},
            "contact": {"email": {"main": "ann.smith@example.com"}},
        },
    )
    # Live: enters Frequent visitor; then spends, enters Big spender; then visits lapse.
    segments_refresh_live(profile_id="ann", changed_fields=["stats.visits"])
    Profile.objects.filter(pk="ann").update(stats={"visits": 5, "spent": 150})
    segments_refresh_live(profile_id="ann", changed_fields=["stats.spent"])
    Profile.objects.filter(pk="ann").update(stats={"visits": 1, "spent": 150})
    segments_refresh_live(profile_id="ann", changed_fields=["stats.visits"])
    # The nightly evaluation of a scheduled segment.
    loyal = SegmentFactory(
        name="Loyal customers", condition="profile@stats.spent >= 100", kind="scheduled"
    )
    segment_sweep_batch(segment_id=loyal.pk, after_id="", batch_size=100)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/profiles/profile/ann/change/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/profiles/profile/ann/change/")

    section = page.locator('[data-section="segment-history"]')
    expect(section.locator("h2")).to_have_text("Segment history (newest first)")
    rows = section.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("entered")
    expect(rows.nth(0)).to_contain_text("Loyal customers")
    expect(rows.nth(0)).to_contain_text("Evaluation over all profiles")
    expect(rows.nth(1)).to_contain_text("left")
    expect(rows.nth(1)).to_contain_text("Frequent visitor")
    expect(rows.nth(2)).to_contain_text("entered")
    expect(rows.nth(2)).to_contain_text("Big spender")
    expect(rows.nth(3)).to_contain_text("Live segmentation (a profile change)")
    section.scroll_into_view_if_needed()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "profile-segment-history.png"), full_page=True)
    section.screenshot(path=str(SHOTS / "profile-segment-history-section.png"))
    context.close()
