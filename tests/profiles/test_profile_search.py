"""The admin's profile search (apps.profiles.search): exact results for each form of the term,
and each form served by its index (EXPLAIN)."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.profiles.models import Profile
from apps.profiles.search import SEARCH_CAP, profile_matches, profile_search, typed_values
from tests.profiles.factories import ProfileFactory

SHOTS = Path("/tmp/shots-wt-search")
PASSWORD = "search-test-password"


def person(pid: str, **data) -> Profile:
    profile_data = {"pii": {}, "contact": {"email": {}, "phone": {}}, "identifier": {}}
    for key, value in data.items():
        profile_data[key] = value
    return ProfileFactory(id=pid, data=profile_data)


@pytest.fixture
def people(db):
    person(
        "ann",
        pii={"firstname": "Ann", "lastname": "Smith"},
        contact={"email": {"main": "ann.smith@example.com"}, "phone": {"main": "+48 600-100-200"}},
        identifier={"id": "C-1001", "coupons": ["SPRING-7"]},
    )
    person(
        "joanna",
        pii={"firstname": "Joanna", "lastname": "Nowak"},
        contact={"email": {}, "phone": {"mobile": "48500200300", "business": 600100201}},
        identifier={"loyalty_card": 4242},
    )
    person("bob", pii={"firstname": "Bob", "lastname": "Annsworth"}, contact={"phone": "n/a"})
    person("nobody", pii="not an object", identifier=["odd", "shape"])
    ProfileFactory(id="plan-pro", traits={"plan": "pro", "orders": 42, "vip": True})
    ProfileFactory(id="plan-text", traits={"plan": "basic", "orders": "42", "vip": "true"})
    ProfileFactory(id="nested", traits={"address": {"city": "Warsaw"}, "orders": 42.5})
    ProfileFactory(id="merged-into", ids=["old-device"])


def found(term: str) -> list[str]:
    profiles, more = profile_search(Profile.objects.all(), term)
    assert more is False
    return sorted(profiles.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # Names: a part of the first name, the last name, or both, any case.
        ("ann", ["ann", "bob", "joanna"]),
        ("Smith", ["ann"]),
        ("ann smith", ["ann"]),
        ("  ANN   SMITH ", ["ann"]),
        ("ann\x00 smith", ["ann"]),
        ("joanna now", ["joanna"]),
        ("smith ann", []),
        # Fewer than 3 characters: not a name search (too many would match).
        ("mi", []),
    ],
)
def test_a_name_finds_people_by_first_name_last_name_or_both(people, term, expected):
    assert found(term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("+48 600-100-200", ["ann"]),
        ("48600100200", ["ann"]),
        ("600 100 200", ["ann"]),
        ("(48) 500.200.300", ["joanna"]),
        # Any key under data.contact.phone, numbers stored as numbers too.
        ("600100201", ["joanna"]),
        ("6001002", ["ann", "joanna"]),
        # Fewer than 6 digits: not a phone search.
        ("00200", []),
        ("+48 600-100-299", []),
    ],
)
def test_a_phone_number_in_any_format_finds_its_profile(people, term, expected):
    assert found(term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("C-1001", ["ann"]),
        ("c-1001", []),
        ("SPRING-7", ["ann"]),
        ("4242", ["joanna"]),
        ("old-device", ["merged-into"]),
        ("merged-into", ["merged-into"]),
        ("ann.smith@", ["ann"]),
        ("ANN.SMITH@EXAMPLE.COM", ["ann"]),
        ("odd", []),
    ],
)
def test_ids_identifiers_and_e_mails_find_their_profile(people, term, expected):
    assert found(term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("plan=pro", ["plan-pro"]),
        ("orders=42", ["plan-pro", "plan-text"]),
        ('orders="42"', ["plan-text"]),
        ("orders=42.5", ["nested"]),
        ("vip=true", ["plan-pro", "plan-text"]),
        ("address.city=Warsaw", ["nested"]),
        ("address.city=warsaw", []),
        ("plan=enterprise", []),
    ],
)
def test_a_trait_as_key_value_matches_the_typed_value_and_the_text(people, term, expected):
    assert found(term) == expected


def test_typed_values_read_numbers_booleans_and_quoted_text():
    assert typed_values("42") == ["42", 42]
    assert typed_values("-1.5") == ["-1.5", -1.5]
    assert typed_values("false") == ["false", False]
    assert typed_values("'42'") == ["42"]
    assert typed_values("1_000") == ["1_000"]


def test_a_broad_term_keeps_the_cap_and_says_there_is_more(people):
    profiles, more = profile_search(Profile.objects.all(), "ann", cap=2)
    assert more is True
    assert profiles.count() == 2
    assert set(profiles.values_list("pk", flat=True)) <= {"ann", "bob", "joanna"}

    profiles, more = profile_search(Profile.objects.all(), "ann", cap=3)
    assert more is False
    assert sorted(profiles.values_list("pk", flat=True)) == ["ann", "bob", "joanna"]


def test_the_admin_warns_when_a_term_finds_more_than_it_lists(db, client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    now = timezone.now()
    Profile.objects.bulk_create(
        Profile(
            id=f"p{number:04}",
            created=now,
            updated=now,
            data={"pii": {"firstname": "Ann", "lastname": f"Number {number}"}},
        )
        for number in range(SEARCH_CAP + 1)
    )

    response = client.get(reverse("admin:profiles_profile_changelist"), {"q": "ann"})

    assert response.context["cl"].result_count == SEARCH_CAP
    assert [str(message) for message in response.context["messages"]] == [
        "More than 1,000 profiles match 'ann': 1,000 of them are listed. Type more of the "
        "name, number or e-mail to narrow the search down."
    ]


# Every branch is an index lookup: with sequential scans priced out, the plan names each index
# (a branch without one would force a scan of the whole table, whatever the setting).
@pytest.mark.parametrize(
    ("term", "indexes"),
    [
        (
            "ann smith",
            [
                # The primary key's (varchar_pattern_ops) index serves id = 'term' too.
                "Index Cond: ((id)::text = 'ann smith'::text)",
                "profile_ids_gin",
                "profile_email_main_idx",
                "profile_identifiers_gin",
                "profile_name_trgm",
            ],
        ),
        ("+48 600-100-200", ["profile_phone_trgm", "profile_name_trgm"]),
        ("4242", ["profile_identifiers_gin", "profile_ids_gin"]),
        ("orders=42", ["profile_traits_gin"]),
    ],
)
def test_each_form_of_the_search_uses_its_index(people, term, indexes):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = profile_matches(Profile.objects.all(), term).values("pk")[:SEARCH_CAP].explain()
    assert "Seq Scan" not in plan
    for index in indexes:
        assert index in plan, plan


def test_the_admin_list_searches_and_explains_the_forms(people, client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    url = reverse("admin:profiles_profile_changelist")

    by_name = client.get(url, {"q": "ann smith"})
    by_trait = client.get(url, {"q": "orders=42"})

    assert [row.pk for row in by_name.context["cl"].result_list] == ["ann"]
    assert sorted(row.pk for row in by_trait.context["cl"].result_list) == [
        "plan-pro",
        "plan-text",
    ]
    page = by_name.content.decode()
    assert "A name (ann smith), e-mail (ann@), phone (+48 600 100 200)" in page
    assert "A trait as key=value: plan=pro, orders=42." in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_marketer_searches_by_name_and_by_trait_in_the_browser(browser, live_server, people):
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/profiles/profile/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/profiles/profile/")

    expect(page.locator("#changelist-search")).to_contain_text(
        "A name (ann smith), e-mail (ann@), phone (+48 600 100 200)"
    )
    page.fill("#searchbar", "ann smith")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody")).to_contain_text("ann.smith@example.com")
    shot(page, "profiles-search-name")

    page.fill("#searchbar", "orders=42")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    # Without a name or e-mail a person is shown by the start of the id; the link names it all.
    expect(page.locator("#result_list tbody")).to_contain_text("plan-tex…")
    links = page.locator("#result_list tbody th a")
    hrefs = sorted(links.nth(n).get_attribute("href") for n in range(links.count()))
    assert [href.split("/")[-3] for href in hrefs] == ["plan-pro", "plan-text"]
    shot(page, "profiles-search-trait")
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
