"""The segment admin: preview, evaluate now, warnings about paths no profile has, and the
progress of the evaluation a save starts."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.profiles import tasks
from apps.profiles.models import Profile, Segment
from apps.profiles.services.segments import segment_sweep_batch
from tests.profiles.factories import ProfileFactory, SegmentFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


@pytest.fixture
def sent(monkeypatch):
    """The sweep messages the admin enqueues (no broker in these tests)."""
    messages = []
    monkeypatch.setattr(tasks.segment_sweep, "delay", lambda *args: messages.append(args))
    return messages


@pytest.fixture
def visitors(db):
    for number, visits in enumerate([0, 1, 2, 3, 5]):
        ProfileFactory(id=f"p{number}", stats={"visits": visits, "views": visits * 2})


def preview(client, condition: str) -> dict:
    response = client.post(reverse("admin:profiles_segment_preview"), {"condition": condition})
    assert response.status_code == 200
    return response.json()


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_preview_counts_the_matching_profiles(staff_client, visitors):
    assert preview(staff_client, "profile@stats.visits > 1") == {
        "ok": True,
        "text": "Matches 3 of 5 profiles.",
        "matched": 3,
        "sample": False,
        "warnings": [],
    }


def test_preview_shows_where_a_condition_does_not_parse(staff_client, visitors):
    assert preview(staff_client, "profile@stats.visits >") == {
        "ok": False,
        "error": "Unexpected end of the condition at column 23; expected a value (number, "
        "string, field reference, function call)",
        "line": 1,
        "column": 23,
    }


def test_preview_warns_about_paths_that_no_profile_has(staff_client, visitors):
    answer = preview(staff_client, "profile@stats.visit > 1 OR profile@stats.views > 6")
    assert (answer["text"], answer["warnings"]) == (
        "Matches 1 of 5 profiles.",
        [
            "No stored profile has profile@stats.visit: the condition reads nothing there yet. "
            "Check the spelling; the CDP itself fills profile@stats.visits, "
            "profile@stats.views and profile@metadata.time.visit.*, the rest comes from event "
            "mappings and workflows."
        ],
    )


def test_preview_needs_a_staff_login(client, visitors):
    response = client.post(reverse("admin:profiles_segment_preview"), {"condition": "true"})
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_saving_a_new_segment_starts_its_evaluation_and_warns_about_unheld_paths(
    staff_client, visitors, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:profiles_segment_add"),
            {
                "name": "Returning",
                "condition": "profile@stats.visits > 1 AND profile@traits.vip EXISTS",
                "kind": "live",
                "enabled": "on",
            },
        )
    assert response.status_code == 302
    segment = Segment.objects.get(name="Returning")
    assert (segment.evaluation_status, segment.evaluation_total, segment.evaluation_done) == (
        "running",
        5,
        0,
    )
    assert sent == [(segment.pk, "", segment.evaluation_run)]
    assert texts(response) == [
        "Returning is being evaluated over the 5 existing profiles in the background; its "
        "page shows the progress.",
        "No stored profile has profile@traits.vip: the condition reads nothing there yet. "
        "Check the spelling; the CDP itself fills profile@stats.visits, profile@stats.views "
        "and profile@metadata.time.visit.*, the rest comes from event mappings and workflows.",
        f'The segment “<a href="{reverse("admin:profiles_segment_change", args=[segment.pk])}'
        '">Returning</a>” was added successfully.',
    ]


def test_saving_without_changing_the_condition_starts_no_evaluation(
    staff_client, visitors, sent, django_capture_on_commit_callbacks
):
    segment = SegmentFactory(
        name="Returning",
        condition="profile@stats.visits > 1",
        evaluation_run="earlier",
        evaluation_status="running",
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:profiles_segment_change", args=[segment.pk]),
            {
                "name": "Returning",
                "description": "Now with a description",
                "condition": "profile@stats.visits > 1",
                "kind": "live",
                "enabled": "on",
            },
        )
    assert sent == []
    segment.refresh_from_db()
    assert (segment.description, segment.evaluation_run) == ("Now with a description", "earlier")


def test_the_segment_pages_show_the_progress_and_the_members(staff_client, visitors, sent):
    segment = SegmentFactory(name="Returning", condition="profile@stats.visits > 1")
    tasks.segment_evaluate_now(segment=segment)
    page = reverse("admin:profiles_segment_change", args=[segment.pk])
    progress = reverse("admin:profiles_segment_evaluation", args=[segment.pk])

    assert staff_client.get(progress).json() == {
        "status": "running",
        "percent": 0,
        "text": "Evaluating… 0% (0 of about 5 profiles)",
        "members": '<a href="/admin/profiles/profile/?segment=returning">0 profile(s)</a>',
    }
    assert (
        segment_sweep_batch(
            segment_id=segment.pk, after_id="", batch_size=2, run_id=segment.evaluation_run
        )
        == "p1"
    )
    assert staff_client.get(progress).json()["text"] == "Evaluating… 40% (2 of about 5 profiles)"
    assert "Evaluating… 40% (2 of about 5 profiles)" in staff_client.get(page).content.decode()

    cursor = "p1"
    while cursor is not None:
        cursor = segment_sweep_batch(
            segment_id=segment.pk, after_id=cursor, batch_size=2, run_id=segment.evaluation_run
        )
    Segment.objects.filter(pk=segment.pk).update(
        last_evaluated_at=datetime(2026, 12, 3, 4, 5, 6, tzinfo=UTC)
    )
    assert staff_client.get(progress).json() == {
        "status": "done",
        "percent": 100,
        "text": "Done: 5 profiles evaluated, finished 2026-12-03 04:05:06",
        "members": '<a href="/admin/profiles/profile/?segment=returning">3 profile(s)</a>',
    }
    listing = staff_client.get(reverse("admin:profiles_segment_changelist")).content.decode()
    assert "Done: 5 profiles evaluated, finished 2026-12-03 04:05:06" in listing
    assert "3 profile(s)" in listing
    assert sorted(
        Profile.objects.filter(segments__contains=["returning"]).values_list("pk", flat=True)
    ) == ["p2", "p3", "p4"]


def test_evaluate_now_button_and_action(
    staff_client, visitors, sent, django_capture_on_commit_callbacks
):
    scheduled = SegmentFactory(name="Loyal", condition="profile@stats.visits > 2", kind="scheduled")
    off = SegmentFactory(name="Off", enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:profiles_segment_evaluate", args=[scheduled.pk])
        )
    assert response.status_code == 302
    assert response.url == reverse("admin:profiles_segment_change", args=[scheduled.pk])
    scheduled.refresh_from_db()
    assert sent == [(scheduled.pk, "", scheduled.evaluation_run)]
    assert texts(response) == ["Evaluating Loyal over all profiles in the background."]
    staff_client.get(response.url)  # shows (and so consumes) the messages
    first_run = scheduled.evaluation_run

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:profiles_segment_changelist"),
            {"action": "evaluate_now", ACTION_CHECKBOX_NAME: [scheduled.pk, off.pk]},
        )
    scheduled.refresh_from_db()
    assert scheduled.evaluation_run != first_run  # a new run supersedes the first
    assert sent[1:] == [(scheduled.pk, "", scheduled.evaluation_run)]
    assert (
        texts(response)
        == [
            "Evaluating Loyal over all profiles in the background.",
            "Off: disabled segments are not evaluated.",
        ][::-1]
    )
    # The superseded run's next batch stops at once.
    assert (
        segment_sweep_batch(segment_id=scheduled.pk, after_id="", batch_size=2, run_id=first_run)
        is None
    )
    assert Profile.objects.filter(segments__contains=["loyal"]).count() == 0


def test_a_failed_evaluation_says_why(staff_client, visitors, sent):
    segment = SegmentFactory(name="Returning", condition="profile@stats.visits > 1")
    run = tasks.segment_evaluate_now(segment=segment)
    Segment.objects.filter(pk=segment.pk).update(enabled=False)
    assert segment_sweep_batch(segment_id=segment.pk, after_id="", batch_size=2, run_id=run) is None
    answer = staff_client.get(reverse("admin:profiles_segment_evaluation", args=[segment.pk]))
    assert answer.json()["text"] == "Failed after 0 profiles: Stopped: the segment was disabled."
