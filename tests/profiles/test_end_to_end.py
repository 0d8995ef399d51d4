"""A website's traffic through /track and a real Celery worker to one trustworthy profile:
predefined mapping, identification across sessions, live segments."""

import json

import pytest
from django.test import Client

from apps.events.models import Event
from apps.profiles.models import IdentificationPoint, Profile, Segment
from apps.profiles.services.segments import segment_save
from apps.sources.services import event_source_create
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def track(session: str, events: list[dict]) -> dict:
    response = Client().post(
        "/track",
        data=json.dumps(
            {"source": {"id": "e2e-web"}, "session": {"id": session}, "events": events}
        ),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def all_processed() -> bool:
    return not Event.objects.filter(status=Event.Status.COLLECTED).exists()


def test_identification_fills_the_profile_and_joins_two_sessions(celery_worker):  # noqa: F811
    event_source_create(name="Web", source_id="e2e-web")
    IdentificationPoint.objects.create(
        name="By e-mail",
        event_type="identification",
        fields=[{"profile": "data.contact.email.main", "event": "properties.email.main"}],
    )
    segment_save(
        segment=Segment(
            name="Identified", condition="profile@data.contact.email.main EXISTS", kind="live"
        )
    )
    identified = {"type": "identification", "properties": {"email": {"main": "ada@example.com"}}}

    laptop = track("laptop", [identified])
    wait_for(all_processed, message="the laptop's events to be processed")
    phone = track("phone", [{"type": "page-view"}, identified])
    wait_for(all_processed, message="the phone's events to be processed")

    assert phone["profile"]["id"] != laptop["profile"]["id"]
    survivor = Profile.objects.get()
    assert survivor.data["contact"]["email"]["main"] == "ada@example.com"
    assert sorted({laptop["profile"]["id"], phone["profile"]["id"]}) == sorted(
        {survivor.pk, *survivor.ids}
    )
    assert survivor.segments == ["identified"]
    assert set(Event.objects.values_list("profile_id", flat=True)) == {survivor.pk}
    assert set(survivor.sessions.values_list("pk", flat=True)) == {"laptop", "phone"}


def test_a_second_visit_puts_the_profile_in_a_returning_visitors_segment(
    celery_worker,  # noqa: F811
):
    event_source_create(name="Web", source_id="e2e-web")
    segment_save(segment=Segment(name="Returning visitors", condition="profile@stats.visits > 1"))

    def profile_body(session: str, profile_id: str | None) -> dict:
        response = Client().post(
            "/track",
            data=json.dumps(
                {
                    "source": {"id": "e2e-web"},
                    "session": {"id": session},
                    "profile": {"id": profile_id} if profile_id else None,
                    "events": [{"type": "page-view"}],
                }
            ),
            content_type="application/json",
        )
        assert response.status_code == 200
        return response.json()

    first = profile_body("monday", None)["profile"]["id"]
    wait_for(all_processed, message="the first visit to be processed")
    profile = Profile.objects.get(pk=first)
    assert (profile.stats, profile.segments) == ({"visits": 1, "views": 1}, [])

    assert profile_body("tuesday", first)["profile"]["id"] == first
    wait_for(
        lambda: Profile.objects.get(pk=first).segments == ["returning-visitors"],
        timeout=30,
        message="the worker to put the profile in the segment after its second visit",
    )
    profile = Profile.objects.get(pk=first)
    assert (profile.stats, profile.visit_count) == ({"visits": 2, "views": 2}, 2)
    assert sorted(
        Event.objects.filter(profile_id=first, type="visit-started").values_list(
            "status", flat=True
        )
    ) == ["processed", "processed"]
