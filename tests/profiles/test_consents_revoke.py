"""Auto-revoke: the beat job revokes expired consents only, records them, re-evaluates
segments and schedules destination syncs, in bounded batches found through an index."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.destinations.models import Delivery, Destination, Resource
from apps.profiles.models import ConsentChange, Profile, Segment
from apps.profiles.services.consents import consents_revoke_expired
from apps.profiles.services.segments import segment_save
from apps.profiles.tasks import consents_auto_revoke
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PAST = "2026-06-01T11:59:00+00:00"
FUTURE = "2026-06-01T12:01:00+00:00"


def profile_with(profile_id, consents, next_revoke, **fields):
    return ProfileFactory(
        id=profile_id, consents=consents, consents_next_revoke=next_revoke, **fields
    )


def test_only_expired_consents_are_revoked_and_recorded():
    profile_with(
        "expired",
        {
            "marketing": {"grant": "2026-05-01T00:00:00+00:00", "revoke": PAST},
            "analytics": {"grant": "2026-05-01T00:00:00+00:00", "revoke": None},
            "sms": {"grant": "2026-05-01T00:00:00+00:00", "revoke": "2026-07-01T00:00:00+00:00"},
        },
        datetime(2026, 6, 1, 11, 59, tzinfo=UTC),
    )
    profile_with(
        "later", {"marketing": {"grant": None, "revoke": FUTURE}}, NOW + timedelta(minutes=1)
    )
    # The shape from before grant times were kept.
    profile_with(
        "legacy", {"marketing": {"revoke": PAST}}, datetime(2026, 6, 1, 11, 59, tzinfo=UTC)
    )
    profile_with("none", {}, None)

    result = consents_revoke_expired(now=NOW)

    assert (result.profiles, result.consents, result.more) == (2, 2, False)
    assert Profile.objects.get(pk="expired").consents == {
        "analytics": {"grant": "2026-05-01T00:00:00+00:00", "revoke": None},
        "sms": {"grant": "2026-05-01T00:00:00+00:00", "revoke": "2026-07-01T00:00:00+00:00"},
    }
    assert Profile.objects.get(pk="expired").consents_next_revoke == datetime(
        2026, 7, 1, tzinfo=UTC
    )
    assert Profile.objects.get(pk="legacy").consents == {}
    assert Profile.objects.get(pk="legacy").consents_next_revoke is None
    assert Profile.objects.get(pk="later").consents == {
        "marketing": {"grant": None, "revoke": FUTURE}
    }
    assert list(
        ConsentChange.objects.order_by("profile_id").values_list(
            "profile_id", "consent_type", "action", "at", "via", "by", "revoke_at"
        )
    ) == [
        ("expired", "marketing", "revoked", NOW, "auto-revoke", "auto-revoke", None),
        ("legacy", "marketing", "revoked", NOW, "auto-revoke", "auto-revoke", None),
    ]
    # Nothing is due any more.
    assert consents_revoke_expired(now=NOW).profiles == 0


def test_segments_and_destinations_follow_the_revoke():
    segment = segment_save(
        segment=Segment(name="Newsletter readers", condition="profile@consents.marketing EXISTS")
    )
    destination = Destination.objects.create(
        name="CRM", resource=Resource.objects.create(name="Hook", type="webhook")
    )
    profile_with(
        "reader",
        {"marketing": {"grant": "2026-05-01T00:00:00+00:00", "revoke": PAST}},
        datetime(2026, 6, 1, 11, 59, tzinfo=UTC),
        segments=[segment.slug],
    )

    consents_revoke_expired(now=NOW)

    assert Profile.objects.get(pk="reader").segments == []
    pending = Delivery.objects.get(profile_id="reader", destination=destination)
    assert (pending.status, pending.changed_fields) == (
        "pending",
        ["segments", "consents.marketing"],
    )


def test_batches_are_bounded_and_say_when_more_are_due():
    for number in range(3):
        profile_with(
            f"p{number}",
            {"marketing": {"grant": None, "revoke": PAST}},
            datetime(2026, 6, 1, 11, 0 + number, tzinfo=UTC),
        )

    first = consents_revoke_expired(now=NOW, batch_size=2)
    second = consents_revoke_expired(now=NOW, batch_size=2)

    assert (first.profiles, first.more, second.profiles, second.more) == (2, True, 1, False)
    assert sorted(ConsentChange.objects.values_list("profile_id", flat=True)) == ["p0", "p1", "p2"]


def test_the_due_profiles_are_found_through_the_partial_index():
    rows = (
        Profile.objects.select_for_update(skip_locked=True)
        .filter(consents_next_revoke__lte=NOW)
        .order_by("consents_next_revoke", "id")[:501]
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor)

    assert "profile_consents_next_revoke" in plan
    assert "Seq Scan" not in plan


def test_the_beat_task_revokes_and_is_scheduled_with_an_expiry():
    profile_with(
        "due",
        {"marketing": {"grant": None, "revoke": (timezone.now() - timedelta(days=1)).isoformat()}},
        timezone.now() - timedelta(days=1),
    )

    assert consents_auto_revoke() == 1
    assert Profile.objects.get(pk="due").consents == {}
    assert settings.CELERY_BEAT_SCHEDULE["profiles-consents-auto-revoke"] == {
        "task": "profiles.consents_auto_revoke",
        "schedule": 300.0,
        "options": {"expires": 290.0},
    }
