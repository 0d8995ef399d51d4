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
