"""Segment previews: counted in SQL exactly as the Python evaluation decides, or on a sample;
conditions that read paths no profile has."""

import contextlib

import pytest

from apps import notation
from apps.profiles import selectors
from apps.profiles.documents import profile_document
from apps.profiles.models import Profile
from apps.profiles.segment_sql import condition_sql
from apps.profiles.selectors import profile_paths_unheld, segment_preview
from tests.profiles.factories import ProfileFactory

# Values that exercise each branch of the operators: numbers, booleans, strings (also ones that
# look like numbers or dates), lists, objects, null, and missing keys.
VALUES = [
    1,
    2,
    2.5,
    0,
    -3,
    True,
    False,
    "2",
    "abc",
    "",
    "2024-05-01T10:00:00+00:00",
    [],
    [1, "a"],
    [True],
    [None],
    ["pro", 2],
    {},
    {"a": 1},
    None,
]

CONDITIONS = [
    "profile@stats.visits > 1",
    "profile@stats.visits >= 2",
    "profile@stats.visits < 2.5",
    "profile@stats.visits <= 0",
    "profile@stats.visits == 2",
    "profile@stats.visits == 1",
    "profile@stats.visits != 1",
    "profile@stats.visits == true",
    "profile@stats.visits == false",
    "profile@stats.visits == null",
    'profile@stats.visits == "a"',
    'profile@stats.visits == "pro"',
    'profile@stats.visits != "abc"',
    'profile@stats.visits > "a"',
    'profile@stats.visits <= "2024-06-01"',
    "profile@stats.visits EXISTS",
    "profile@stats.visits NOT EXISTS",
    "profile@stats.visits IS NULL",
    "profile@stats.visits IS NOT NULL",
    "profile@stats.visits EMPTY",
    "profile@stats.visits NOT EMPTY",
    "NOT profile@stats.visits > 1",
    "profile@stats.visits > 1 OR profile@traits.plan == 'pro'",
    "profile@traits.plan == 'pro' OR profile@stats.visits > 1",
    "profile@stats.visits > 1 AND profile@traits.plan EXISTS",
    "NOT (profile@traits.plan EXISTS AND profile@stats.visits < 3)",
    "profile@data.contact.email.main EXISTS AND true",
    "false OR profile@stats.visits == 2",
]


@pytest.fixture
def profiles():
    for index, value in enumerate(VALUES):
        stats = {} if index == 0 else {"visits": value}
        traits = {"plan": "pro"} if index % 3 == 0 else {}
        ProfileFactory(id=f"p{index:02}", stats=stats, traits=traits)
    ProfileFactory(id="p99", stats={"visits": 5}, data={"contact": {"email": {"main": "a@x.io"}}})


def python_matches(condition: str) -> int:
    compiled = notation.compile_condition(condition)
    matched = 0
    for profile in Profile.objects.all():
        with contextlib.suppress(notation.NotationError):
            matched += bool(compiled.evaluate({"profile": profile_document(profile)}))
    return matched


@pytest.mark.django_db
@pytest.mark.parametrize("condition", CONDITIONS)
def test_the_database_counts_what_the_evaluation_decides(profiles, condition):
    assert condition_sql(condition) is not None
    preview = segment_preview(condition=condition)
    assert preview.in_database
    assert (preview.matched, preview.total.value) == (python_matches(condition), 20)


@pytest.mark.django_db
def test_exact_counts_in_the_database(profiles):  # p00 has no stats.visits
    preview = segment_preview(condition="profile@stats.visits > 1")
    # p01's 2, p02's 2.5, p99's 5 (p05's true counts as 1; strings, lists and objects fail).
    assert (preview.matched, preview.in_database, preview.sample) == (3, True, False)
    assert preview.text == "Matches 3 of 20 profiles."


@pytest.mark.django_db
def test_a_condition_the_database_cannot_count_is_evaluated_on_a_labelled_sample(profiles):
    condition = "profile@stats.visits BETWEEN 1 AND 2"
    assert condition_sql(condition) is None

    whole = segment_preview(condition=condition)
    assert (whole.matched, whole.evaluated, whole.in_database, whole.sample) == (
        2,
        20,
        False,
        False,
    )
    assert whole.text == "Matches 2 of 20 profiles."

    sampled = segment_preview(condition=condition, sample=5)
    # p00 (no visits), p01 (2), p02 (2.5), p03 (0), p04 (-3)
    assert (sampled.matched, sampled.evaluated, sampled.sample) == (1, 5, True)
    assert sampled.text == (
        "Matches 1 of a sample of 5 profiles (20.0%), out of 20 profiles. Only a sample: this "
        "condition uses something the database cannot count exactly (a function, BETWEEN, "
        "CONTAINS, IN, a list index), so it was evaluated here on the first profiles by id; "
        "saving evaluates it on all of them."
    )


@pytest.mark.django_db
def test_a_count_that_takes_too_long_falls_back_to_a_labelled_sample(profiles, monkeypatch):
    monkeypatch.setattr(selectors, "PREVIEW_TIMEOUT_MS", 20)
    monkeypatch.setattr(
        selectors, "condition_sql", lambda condition: ("pg_sleep(0.1) IS NOT NULL", {})
    )
    preview = segment_preview(condition="profile@stats.visits > 1", sample=10)
    assert (preview.matched, preview.evaluated, preview.in_database, preview.sample) == (
        2,
        10,
        False,
        True,
    )
    assert preview.text == (
        "Matches 2 of a sample of 10 profiles (20.0%), out of 20 profiles. Only a sample: "
        "counting all of them in the database took too long, so it was evaluated here on the "
        "first profiles by id; saving evaluates it on all of them."
    )


@pytest.mark.django_db
def test_a_condition_that_does_not_parse_raises_with_its_column():
    with pytest.raises(notation.ConditionSyntaxError) as caught:
        segment_preview(condition="profile@stats.visits >")
    assert caught.value.column == 23


@pytest.mark.django_db
def test_paths_that_no_profile_has_are_listed(profiles, django_assert_num_queries):
    condition = (
        "profile@stats.visits > 1 AND profile@stats.visitz > 1 AND profile@traits.plan EXISTS "
        "AND profile@data.contact.email.main EXISTS AND profile@nothing.here EXISTS "
        "AND profile@id EXISTS AND profile@traits EXISTS AND event@type == 'x'"
    )
    # One statement (an EXISTS per path in a JSON column) in a savepoint with a timeout:
    # SAVEPOINT, timeout, the EXISTS, timeout back, RELEASE.
    with django_assert_num_queries(5):
        assert profile_paths_unheld(condition=condition) == [
            "profile@stats.visitz",
            "profile@nothing.here",
        ]
