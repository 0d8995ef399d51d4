from datetime import UTC, datetime

import pytest

from apps.profiles.documents import empty_profile_document, profile_document, profile_new
from apps.profiles.models import empty_profile_data
from tests.profiles.factories import ProfileFactory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_new_profile_has_its_times_no_visit_yet_and_the_empty_data_shape():
    profile = profile_new(profile_id="p1", now=NOW)

    assert (profile.pk, profile.created, profile.updated, profile.visit_count) == (
        "p1",
        NOW,
        NOW,
        0,
    )
    assert profile.metadata == {
        "time": {
            "insert": NOW.isoformat(),
            "create": NOW.isoformat(),
            "update": NOW.isoformat(),
            "visit": {"last": None, "current": None, "count": 0, "tz": None},
        },
        "fields": {},
    }
    assert profile.data == empty_profile_data()


def test_an_unstored_profile_is_the_document_of_a_new_profile():
    assert empty_profile_document("p1", now=NOW) == profile_document(
        profile_new(profile_id="p1", now=NOW)
    )
    assert empty_profile_document("p1", now=NOW)["segments"] == []


@pytest.mark.django_db
def test_a_profile_document_is_a_copy_safe_to_change():
    profile = ProfileFactory(traits={"plan": "free"}, ids=["old"])
    document = profile_document(profile)

    document["traits"]["plan"] = "pro"
    document["ids"].append("new")

    assert profile.traits == {"plan": "free"}
    assert profile.ids == ["old"]
