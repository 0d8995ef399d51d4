"""Issue 17 item 2: segments through the API: CRUD via the segment services (background
evaluation queued on commit), members, count, dry run."""

import pytest

from apps.profiles.models import Segment
from tests.profiles.factories import ProfileFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_create_evaluates_in_the_background_and_answers_the_segment(
    client_all, django_capture_on_commit_callbacks
):
    ProfileFactory(stats={"visits": 5})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_all.post(
            "/api/v1/segments/",
            {"name": "Frequent Visitors", "condition": "profile@stats.visits > 3"},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "frequent-visitors"
    assert body["kind"] == "live"
    assert body["evaluation_status"] == "running"
    assert body["evaluation_total"] == 1
    assert len(callbacks) == 1
    assert Segment.objects.get().condition == "profile@stats.visits > 3"


def test_a_bad_condition_and_a_name_clash_name_their_field(client_all):
    SegmentFactory(name="VIP")
    response = client_all.post(
        "/api/v1/segments/", {"name": "vip", "condition": "profile@stats.visits >"}, format="json"
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert [entry["loc"] for entry in detail] == [["body", "name"], ["body", "condition"]]
    assert detail[0]["msg"] == (
        "Another segment is already stored as 'vip' (names differing only in case or spaces "
        "are the same segment)."
    )
    assert Segment.objects.count() == 1


def test_members_and_count(client_all):
    segment = SegmentFactory(name="VIP")
    ProfileFactory(id="a", segments=["vip"])
    ProfileFactory(id="b", segments=["vip", "other"])
    ProfileFactory(id="c", segments=["other"])
    members = client_all.get(f"/api/v1/segments/{segment.pk}/members/").json()
    assert [profile["id"] for profile in members["results"]] == ["a", "b"]
    assert client_all.get(f"/api/v1/segments/{segment.pk}/count/").json() == {
        "count": 2,
        "kind": "exact",
    }


def test_dry_run_counts_without_saving(client_all):
    ProfileFactory(stats={"visits": 5})
    ProfileFactory(stats={"visits": 1})
    response = client_all.post(
        "/api/v1/segments/dry-run/", {"condition": "profile@stats.visits > 3"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {
        "matched": 1,
        "evaluated": 2,
        "total": 2,
        "sample": False,
        "text": "Matches 1 of 2 profiles.",
    }
    assert Segment.objects.count() == 0
    broken = client_all.post("/api/v1/segments/dry-run/", {"condition": "x >"}, format="json")
    assert broken.status_code == 400
    assert broken.json()["detail"][0]["loc"] == ["body", "condition"]


def test_update_and_delete(client_all, django_capture_on_commit_callbacks):
    segment = SegmentFactory(name="VIP")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changed = client_all.patch(
            f"/api/v1/segments/{segment.pk}/",
            {"condition": "profile@stats.visits > 10"},
            format="json",
        )
    assert changed.status_code == 200
    assert changed.json()["condition"] == "profile@stats.visits > 10"
    assert len(callbacks) == 1
    assert client_all.delete(f"/api/v1/segments/{segment.pk}/").status_code == 204
    assert Segment.objects.count() == 0


def test_evaluate_now_begins_an_evaluation(client_all, django_capture_on_commit_callbacks):
    segment = SegmentFactory(name="VIP")
    ProfileFactory(stats={"visits": 9})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_all.post(f"/api/v1/segments/{segment.pk}/evaluate/")
    assert response.status_code == 202
    segment.refresh_from_db()
    assert response.json() == {"evaluation_run": segment.evaluation_run}
    assert segment.evaluation_status == "running"
    assert len(callbacks) == 1
