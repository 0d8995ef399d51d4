from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.profiles.documents import profile_document
from apps.profiles.models import Profile
from apps.profiles.services.writes import profile_changed_paths, profile_save_changes
from tests.profiles.factories import ProfileFactory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_changed_paths_are_leaves_and_removed_keys():
    before = {"traits": {"plan": "free", "old": 1, "nested": {"a": 1}}, "segments": ["a"]}
    after = {"traits": {"plan": "pro", "nested": {"a": 1, "b": {"c": 2}}}, "segments": ["a", "b"]}

    assert sorted(profile_changed_paths(before, after)) == [
        ("segments",),
        ("traits", "nested", "b", "c"),
        ("traits", "old"),
        ("traits", "plan"),
    ]


def test_type_change_of_equal_value_counts_as_a_change():
    assert profile_changed_paths({"traits": {"n": 1}}, {"traits": {"n": True}}) == [("traits", "n")]


@pytest.mark.django_db
def test_nothing_changed_writes_nothing(django_assert_num_queries):
    profile = ProfileFactory(traits={"plan": "free"})
    before = profile_document(profile)

    with django_assert_num_queries(0):
        assert profile_save_changes(profile_id=profile.id, before=before, after=before) == []


@pytest.mark.django_db
def test_changes_apply_onto_the_current_row_with_field_times(django_capture_on_commit_callbacks):
    profile = ProfileFactory(traits={"plan": "free", "temp": "x"}, stats={"visits": 1})
    before = profile_document(profile)
    after = profile_document(profile)
    after["traits"]["plan"] = "pro"
    del after["traits"]["temp"]
    after["segments"] = ["buyers"]
    # Meanwhile another writer (the tracking pipeline) changes a field the workflow did not.
    Profile.objects.filter(pk=profile.pk).update(stats={"visits": 2})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        changed = profile_save_changes(profile_id=profile.id, before=before, after=after, now=NOW)

    assert sorted(changed) == ["segments", "traits.plan", "traits.temp"]
    profile.refresh_from_db()
    assert profile.traits == {"plan": "pro"}
    assert profile.segments == ["buyers"]
    assert profile.stats == {"visits": 2}
    assert profile.metadata["fields"] == {
        "segments": NOW.isoformat(),
        "traits.plan": NOW.isoformat(),
        "traits.temp": NOW.isoformat(),
    }
    assert profile.metadata["time"]["update"] == NOW.isoformat()
    assert profile.updated == NOW
    assert callbacks == []  # what follows the change is written in its transaction


@pytest.mark.django_db
def test_profile_changed_runs_in_the_writers_transaction_with_the_paths(
    monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(
        "apps.profiles.services.writes.profile_changed",
        lambda *, profile_id, changed_fields: calls.append(
            (profile_id, list(changed_fields), len(connection.savepoint_ids))
        ),
    )
    profile = ProfileFactory()
    before = profile_document(profile)
    after = profile_document(profile)
    after["interests"]["sport"] = 2

    outer_savepoints = len(connection.savepoint_ids)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile_save_changes(profile_id=profile.id, before=before, after=after, now=NOW)
        # Called inside the writer's atomic block (one savepoint deeper), not on commit.
        assert calls == [(profile.id, ["interests.sport"], outer_savepoints + 1)]

    assert callbacks == []


@pytest.mark.django_db
def test_typed_columns_are_coerced_and_datetimes_stored_as_text():
    profile = ProfileFactory()
    before = profile_document(profile)
    after = profile_document(profile)
    after["segments"] = "single"
    after["traits"]["seen"] = NOW

    profile_save_changes(profile_id=profile.id, before=before, after=after, now=NOW)

    profile.refresh_from_db()
    assert profile.segments == ["single"]
    assert profile.traits == {"seen": NOW.isoformat()}


@pytest.mark.django_db
def test_a_deleted_profile_is_skipped():
    profile = ProfileFactory()
    before = profile_document(profile)
    after = {**before, "traits": {"x": 1}}
    Profile.objects.filter(pk=profile.pk).delete()

    assert profile_save_changes(profile_id=profile.id, before=before, after=after) == []


@pytest.mark.django_db
def test_many_profiles_are_saved_in_one_read_and_one_write_each_with_its_own_changes(
    django_assert_max_num_queries, monkeypatch
):
    from apps.profiles import hooks
    from apps.profiles.services.writes import profiles_save_changes

    first = ProfileFactory(traits={"plan": "free"}, segments=["old"], active=True)
    second = ProfileFactory(traits={"keep": 1}, interests={"shoes": 1})
    untouched = ProfileFactory(traits={"same": True})
    docs = {p.pk: profile_document(p) for p in (first, second, untouched)}
    after_first = {**docs[first.pk], "traits": {"plan": "pro"}, "segments": ["old", "vip"]}
    after_second = {**docs[second.pk], "interests": {"shoes": 2}, "active": False}
    reported = []

    def subscriber(*, profile_id, changed_fields):
        reported.append((profile_id, list(changed_fields)))

    # A copy of the registry for this test only.
    monkeypatch.setattr(hooks, "_change_subscribers", [*hooks._change_subscribers])
    hooks.profile_change_subscribe(subscriber)
    # Savepoint, locking read, one UPDATE, the segment history of `first` and its
    # segment-entered event (the internal source, the insert, and on this cold process the
    # routing caches it reads: rules, event types, identification points, live segments),
    # release: no query per profile beyond what the change's subscribers do.
    with django_assert_max_num_queries(16):
        changed = profiles_save_changes(
            changes=[
                (first.pk, docs[first.pk], after_first),
                (second.pk, docs[second.pk], after_second),
                (untouched.pk, docs[untouched.pk], docs[untouched.pk]),
            ],
            now=NOW,
        )
    assert {key: sorted(value) for key, value in changed.items()} == {
        first.pk: ["segments", "traits.plan"],
        second.pk: ["active", "interests.shoes"],
    }
    stamp = NOW.isoformat()
    first.refresh_from_db()
    second.refresh_from_db()
    untouched.refresh_from_db()
    assert (first.traits, first.segments, first.active) == ({"plan": "pro"}, ["old", "vip"], True)
    assert (second.traits, second.interests, second.active) == ({"keep": 1}, {"shoes": 2}, False)
    assert first.metadata["fields"] == {"segments": stamp, "traits.plan": stamp}
    assert second.metadata["fields"] == {"active": stamp, "interests.shoes": stamp}
    assert (first.updated, second.updated) == (NOW, NOW)
    assert untouched.traits == {"same": True} and untouched.updated != NOW
    assert sorted(
        (pid, sorted(fields)) for pid, fields in reported if pid != untouched.pk
    ) == sorted(
        [(first.pk, ["segments", "traits.plan"]), (second.pk, ["active", "interests.shoes"])]
    )
