"""Issue 12 item 9: a profile id the server did not issue (a static id, a CRM number set by a
webhook) resolves only on sources that allow static ids; on an ordinary source it is a stranger's
guess and gets a fresh profile, as an unknown id does."""

import importlib
import uuid

import pytest
from django.db import connection

from apps.events.models import Event
from apps.profiles.models import MergeRecord, Profile
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.merge_undo import merge_undo, profile_from_row_snapshot
from apps.sources.services import event_source_create
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def static_source(db):
    return event_source_create(name="Backend", source_id="static-src", static_profile_ids=True)


@pytest.fixture
def crm_webhook(db):
    return event_source_create(
        name="CRM", bridge="webhook", source_id="crm", config={"replace_profile_id": "customer.id"}
    )


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def test_a_static_id_does_not_resolve_on_an_ordinary_source(api, rest_source, static_source):
    api.track(
        payload("static-src", session="crm-s", profile="customer-1001", events=[{"type": "a"}])
    )

    body = api.track(
        payload(session="stranger-s", profile="customer-1001", events=[{"type": "probe"}])
    ).json()

    stranger = body["profile"]["id"]
    assert stranger != "customer-1001"
    assert _is_uuid(stranger)
    assert Event.objects.get(type="probe").profile_id == stranger
    assert Profile.objects.get(pk="customer-1001").static_ids == ["customer-1001"]
    assert Profile.objects.get(pk=stranger).static_ids == []
    assert sorted(
        Event.objects.filter(profile_id="customer-1001").values_list("type", flat=True)
    ) == ["a", "profile-created", "session-opened", "visit-started"]


def test_a_static_id_still_resolves_on_a_source_that_allows_static_ids(api, static_source):
    api.track(
        payload("static-src", session="crm-1", profile="customer-1001", events=[{"type": "a"}])
    )

    body = api.track(
        payload("static-src", session="crm-2", profile="customer-1001", events=[{"type": "b"}])
    ).json()

    assert body["profile"]["id"] == "customer-1001"
    assert Event.objects.get(type="b").profile_id == "customer-1001"
    assert Profile.objects.count() == 1


def test_a_crm_number_set_by_a_webhook_does_not_resolve_on_an_ordinary_source(
    client, api, rest_source, crm_webhook
):
    client.post(
        "/collect/updated/crm", data={"customer": {"id": "c-9"}}, content_type="application/json"
    )

    body = api.track(payload(session="s-1", profile="c-9", events=[{"type": "probe"}])).json()

    assert body["profile"]["id"] != "c-9"
    assert Event.objects.get(type="probe").profile_id == body["profile"]["id"]
    assert Profile.objects.get(pk="c-9").static_ids == ["c-9"]
    # The webhook itself still finds its profile by the CRM number.
    again = client.post(
        "/collect/paid/crm", data={"customer": {"id": "c-9"}}, content_type="application/json"
    ).json()
    assert again["profile"]["id"] == "c-9"


def test_a_static_id_merged_into_another_profile_does_not_resolve_on_an_ordinary_source(
    api, rest_source, static_source
):
    browser = api.track(payload(session="b-1", events=[{"type": "a"}])).json()["profile"]["id"]
    api.track(
        payload("static-src", session="crm-1", profile="customer-1001", events=[{"type": "a"}])
    )
    profiles_merge(profile_ids=[browser, "customer-1001"], reason="test", actor="test")

    assert Profile.objects.get(pk=browser).static_ids == ["customer-1001"]
    body = api.track(
        payload(session="stranger-s", profile="customer-1001", events=[{"type": "probe"}])
    ).json()

    assert body["profile"]["id"] not in (browser, "customer-1001")
    assert Event.objects.get(type="probe").profile_id == body["profile"]["id"]
    # The static source still finds the survivor by the merged static id.
    crm = api.track(
        payload("static-src", session="crm-2", profile="customer-1001", events=[{"type": "b"}])
    ).json()
    assert crm["profile"]["id"] == browser


def test_a_server_issued_id_merged_into_a_static_profile_keeps_resolving(
    api, rest_source, static_source
):
    api.track(
        payload("static-src", session="crm-1", profile="customer-1001", events=[{"type": "a"}])
    )
    browser = api.track(payload(session="b-1", events=[{"type": "a"}])).json()["profile"]["id"]
    profiles_merge(profile_ids=["customer-1001", browser], reason="test", actor="test")

    body = api.track(payload(session="b-2", profile=browser, events=[{"type": "back"}])).json()

    assert Event.objects.get(type="back").profile_id == "customer-1001"
    # The answer is an id the browser can send again on this source: the server-issued one.
    assert body["profile"]["id"] == browser
    assert Profile.objects.get(pk="customer-1001").static_ids == ["customer-1001"]


def test_undoing_a_merge_gives_each_profile_its_static_ids_back(api, rest_source, static_source):
    browser = api.track(payload(session="b-1", events=[{"type": "a"}])).json()["profile"]["id"]
    api.track(
        payload("static-src", session="crm-1", profile="customer-1001", events=[{"type": "a"}])
    )
    profiles_merge(profile_ids=[browser, "customer-1001"], reason="test", actor="test")
    record = MergeRecord.objects.get()

    merge_undo(merge_id=record.pk, actor="test")

    assert Profile.objects.get(pk=browser).static_ids == []
    assert Profile.objects.get(pk="customer-1001").static_ids == ["customer-1001"]


def test_undoing_a_merge_recorded_before_static_ids_marks_ids_by_their_shape():
    issued = str(uuid.uuid4())
    snapshot = {
        "id": issued,
        "ids": ["customer-1001", "0b7e-not-a-uuid", str(uuid.uuid4())],
        "created": "2026-01-01T00:00:00+00:00",
        "updated": "2026-01-01T00:00:00+00:00",
    }

    profile = profile_from_row_snapshot(snapshot)

    assert profile.static_ids == ["customer-1001", "0b7e-not-a-uuid"]


def test_the_migration_marks_ids_that_the_server_cannot_have_issued():
    issued, merged_issued = str(uuid.uuid4()), str(uuid.uuid4())
    when = "2026-01-01T00:00:00Z"
    Profile.objects.create(id=issued, ids=[merged_issued, "crm-5"], created=when, updated=when)
    Profile.objects.create(id="customer-1001", ids=[], created=when, updated=when)
    Profile.objects.create(id=merged_issued.upper(), ids=[], created=when, updated=when)
    Profile.objects.create(id=str(uuid.uuid4()), ids=[], created=when, updated=when)
    migration = importlib.import_module("apps.profiles.migrations.0004_profile_static_ids")

    with connection.cursor() as cursor:
        cursor.execute(migration.MARK_STATIC_IDS)
        updated = cursor.rowcount

    assert updated == 3
    assert dict(Profile.objects.exclude(static_ids=[]).values_list("pk", "static_ids")) == {
        issued: ["crm-5"],
        "customer-1001": ["customer-1001"],
        merged_issued.upper(): [merged_issued.upper()],
    }
