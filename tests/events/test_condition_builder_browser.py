"""The condition builder on the event type page, in a real browser against the real endpoints.

Debian's Chromium driven by Playwright (as tests/tracker) against pytest-django's live server,
logged in as a staff user. Screenshots go to /tmp/shots-condbuilder/ for a person to look at.
"""

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps import notation
from apps.events.models import EventType, EventTypeMapping
from apps.notation.builder import condition_builder_model
from apps.profiles.models import Segment
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-condbuilder")
BUILT = "event@properties.email EXISTS AND event@properties.plan = 'pro'"


@pytest.fixture
def admin_viewport() -> dict[str, int]:
    return {"width": 1280, "height": 800}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(15_000)
    return page


@pytest.fixture(autouse=True)
def _no_cached_fields():
    cache.delete_pattern("condition-fields:*")
    yield
    cache.delete_pattern("condition-fields:*")


@pytest.fixture
def purchase(transactional_db) -> EventType:
    event_type = EventType.objects.create(type="purchase", name="Purchase")
    now = timezone.now()
    EventFactory(
        type="purchase",
        time=now - timedelta(minutes=1),
        properties={"email": "ann@example.com", "plan": "pro"},
    )
    EventFactory(type="purchase", time=now, properties={"plan": "team", "amount": 120})
    return event_type


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_page(page: Page, live_server, event_type: EventType) -> None:
    page.goto(f"{live_server.url}/admin/events/eventtype/{event_type.pk}/change/")
    expect(page.locator(".cdp-cond-ready").first).to_be_attached()
    # The mapping rows at the top of the window, with room for the builder's panel below.
    page.locator("#mappings-group").evaluate(
        'element => element.scrollIntoView({block: "start", inline: "nearest"})'
    )


def row(page: Page, index: int):
    return page.locator(f"#mappings-{index}")


def values(locator) -> list[str]:
    return locator.evaluate_all("elements => elements.map((element) => element.value)")


def open_builder(page: Page, index: int):
    row(page, index).locator(".cdp-cond-open").click()
    panel = row(page, index).locator(".cdp-cond-panel")
    expect(panel).to_be_visible()
    return panel


def test_build_a_condition_then_edit_the_text_and_save(page, live_server, purchase):
    open_page(page, live_server, purchase)
    condition = page.locator("#id_mappings-0-condition")
    page.fill("#id_mappings-0-profile_path", "traits.plan")
    page.fill("#id_mappings-0-event_path", "properties.plan")
    # The mapping rows fit a 1280 px window next to the admin's sidebar (1,968 px wide before).
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    shot(page, "01-event-type-page")

    panel = open_builder(page, 0)
    expect(panel.locator(".cdp-cond-empty")).to_have_text("No conditions: always true. Add one.")
    # Suggestions: the paths of recent purchase events (most common first), then profiles'.
    options = page.locator("datalist option")
    expect(options.first).to_be_attached()
    assert values(options)[:4] == [
        "event@properties.plan",
        "event@properties.amount",
        "event@properties.email",
        "event@type",
    ]
    assert options.nth(0).get_attribute("label") == 'string · in 2 recent · e.g. "team"'
    assert "profile@data.contact.email.main" in values(options)
    panel.locator(".cdp-cond-add").click()
    first = panel.locator(".cdp-cond-rule").nth(0)
    expect(first.locator(".cdp-cond-field")).to_be_focused()
    first.locator(".cdp-cond-field").fill("event@properties.email")
    first.locator(".cdp-cond-op").select_option("exists")
    expect(condition).to_have_value("event@properties.email EXISTS")
    panel.locator(".cdp-cond-add").click()
    second = panel.locator(".cdp-cond-rule").nth(1)
    second.locator(".cdp-cond-field").fill("event@properties.plan")
    # A string field from the sampled events: text operators.
    expect(second.locator(".cdp-cond-op option")).to_have_text(
        ["equals", "does not equal", "contains", "does not contain", "starts with", "ends with",
         "is one of", "is none of", "exists", "does not exist", "is empty", "is not empty"]
    )  # fmt: skip
    second.locator(".cdp-cond-op").select_option("=")
    second.locator(".cdp-cond-value").fill("pro")
    second.locator(".cdp-cond-value").press("Enter")  # does not submit the page

    expect(condition).to_have_value(BUILT)
    expect(panel.locator(".cdp-cond-joiner")).to_have_text(["and"])
    shot(page, "02-builder-open")
    panel.locator(".cdp-cond-close").click()
    expect(panel).to_be_hidden()

    # A broken condition typed as text: the notation's message and a caret at its column.
    broken = "event@properties.plan = 'pro' AND OR"
    condition.fill(broken)
    error = row(page, 0).locator(".cdp-cond-error")
    expect(error.locator(".cdp-cond-message")).to_have_text(
        "Unexpected 'OR' at column 35; expected a condition (field reference, value, "
        "function call, NOT or '(')"
    )
    # The narrow cell shows the 16 characters before the column and 8 after.
    expect(error.locator(".cdp-cond-caret")).to_have_text(f"…{broken[18:42]}\n{' ' * 17}^")
    shot(page, "03-text-error")
    panel = open_builder(page, 0)
    expect(panel.locator(".cdp-cond-notice")).to_have_text(
        "Fix the condition in the text box (see the error) to edit it here."
    )
    expect(panel.locator(".cdp-cond-rule")).to_have_count(0)
    expect(condition).to_have_value(broken)
    panel.locator(".cdp-cond-close").click()

    # A valid condition typed as text: the builder's rows reflect it.
    typed = (
        "event@properties.plan IN ['pro', 'team'] OR (event@properties.amount >= 100 AND "
        "event@properties.email ENDS WITH '@example.com')"
    )
    condition.fill(typed)
    expect(error).to_be_hidden()
    panel = open_builder(page, 0)
    rules = panel.locator(".cdp-cond-rule")
    expect(rules).to_have_count(3)
    expect(panel.locator(".cdp-cond-depth-0 > .cdp-cond-group-head .cdp-cond-join")).to_have_value(
        "or"
    )
    expect(panel.locator(".cdp-cond-depth-1 .cdp-cond-join")).to_have_value("and")
    assert values(rules.locator(".cdp-cond-field")) == [
        "event@properties.plan",
        "event@properties.amount",
        "event@properties.email",
    ]
    assert values(rules.locator(".cdp-cond-op")) == ["in", ">=", "ends with"]
    assert values(rules.locator(".cdp-cond-value")) == ["pro, team", "100", "@example.com"]
    expect(condition).to_have_value(typed)  # reading it into the builder rewrote nothing
    shot(page, "04-text-read-into-builder")

    # An edit in the builder rewrites the text in the builder's spelling.
    rules.nth(1).locator(".cdp-cond-value").fill("150")
    expect(condition).to_have_value(
        "event@properties.plan IN ['pro', 'team'] OR (event@properties.amount >= 150 AND "
        "event@properties.email ENDS WITH '@example.com')"
    )
    # Removing a row of the nested group leaves one row: no parentheses needed.
    rules.nth(2).locator(".cdp-cond-remove").click()
    expect(condition).to_have_value(
        "event@properties.plan IN ['pro', 'team'] OR event@properties.amount >= 150"
    )
    panel.locator(".cdp-cond-close").click()

    # What the builder cannot show stays text, untouched.
    condition.fill("NOT event@properties.email EXISTS")
    panel = open_builder(page, 0)
    expect(panel.locator(".cdp-cond-notice")).to_contain_text("This condition is edited as text")
    expect(condition).to_have_value("NOT event@properties.email EXISTS")
    shot(page, "05-text-only")
    panel.locator(".cdp-cond-close").click()

    condition.fill(BUILT)
    expect(error).to_be_hidden()
    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert EventTypeMapping.objects.get(event_type=purchase).condition == BUILT
    expect(page.locator("#id_mappings-0-condition")).to_have_value(BUILT)
    shot(page, "06-saved")


def test_groups_dates_and_a_row_added_to_the_formset(page, live_server, purchase):
    open_page(page, live_server, purchase)
    page.locator("#mappings-group .add-row a").click()
    panel = open_builder(page, 1)
    panel.locator(".cdp-cond-add").click()
    first = panel.locator(".cdp-cond-rule").first
    # The field catalogue (with its types) arrives from the server; a field typed before it
    # keeps the operator it got as an untyped field. The field gets its datalist on arrival.
    expect(first.locator(".cdp-cond-field")).to_have_attribute("list", re.compile(r"\S+"))
    first.locator(".cdp-cond-field").fill("profile@metadata.time.insert")
    # A Tracardi date field: date operators.
    expect(first.locator(".cdp-cond-op")).to_have_value("before")
    first.locator(".cdp-cond-op").select_option("in the last days")
    first.locator(".cdp-cond-days").fill("30")
    panel.locator(".cdp-cond-add-group").click()
    group = panel.locator(".cdp-cond-depth-1")
    inner = group.locator(".cdp-cond-rule").first
    inner.locator(".cdp-cond-field").fill("profile@segments")
    inner.locator(".cdp-cond-op").select_option("contains")
    inner.locator(".cdp-cond-value").fill("vip")
    group.locator(".cdp-cond-add").click()
    second = group.locator(".cdp-cond-rule").nth(1)
    second.locator(".cdp-cond-field").fill("stats.visits")  # no source: the event's
    second.locator(".cdp-cond-op").select_option(">")
    second.locator(".cdp-cond-value").fill("3")

    expect(page.locator("#id_mappings-1-condition")).to_have_value(
        "profile@metadata.time.insert >= now.offset('-30d') AND "
        "(profile@segments CONTAINS 'vip' OR event@stats.visits > 3)"
    )
    shot(page, "07-groups-and-dates")
    group.locator(".cdp-cond-join").select_option("and")
    expect(page.locator("#id_mappings-1-condition")).to_have_value(
        "profile@metadata.time.insert >= now.offset('-30d') AND "
        "(profile@segments CONTAINS 'vip' AND event@stats.visits > 3)"
    )
    group.locator(".cdp-cond-remove-group").click()
    expect(page.locator("#id_mappings-1-condition")).to_have_value(
        "profile@metadata.time.insert >= now.offset('-30d')"
    )


# Canonical texts: the builder's model of each (read by Python) serializes back to it exactly.
CANONICAL = [
    "profile@a EXISTS",
    "profile@a NOT EXISTS AND profile@b EMPTY AND profile@c NOT EMPTY",
    "profile@a = 'x' OR profile@b != 2 OR profile@c > -1.5 OR profile@d >= 0 OR profile@e < 1e+21",
    "profile@a <= 3 AND (profile@b = true OR profile@c = false)",
    "profile@n BETWEEN 1 AND 10 AND profile@s BETWEEN 'a' AND 'm'",
    "profile@s CONTAINS 'x' AND profile@s NOT CONTAINS 'y' AND profile@s STARTS WITH 'a' "
    "AND profile@s ENDS WITH 'z'",
    "profile@s IN ['a', 'b', 3, true] AND profile@s NOT IN []",
    "profile@t < datetime('2024-01-31') OR profile@t > datetime('2024-02-01T10:00:00Z')",
    "profile@t BETWEEN datetime('2024-01-01') AND datetime('2024-02-01')",
    "profile@t >= now.offset('-7d') AND profile@t < now.offset('-365d')",
    "profile@s = 'O\\'Hara \\\\ \"q\"\\n'",
    "profile@data[\"first name\"] = 'Ann'",
    "profile@a EXISTS OR (profile@b EXISTS AND profile@c EXISTS)",
]


def serialized(page: Page, models: list, default_source: str = "profile") -> list[str]:
    return page.evaluate(
        """async ([models, source]) => {
            const {serialize} = await import("/static/core/condition-builder.js");
            return models.map((model) => serialize(model, source));
        }""",
        [models, default_source],
    )


def test_the_serializer_writes_what_the_notation_reads(page, live_server, purchase):
    open_page(page, live_server, purchase)

    models = [condition_builder_model(text) for text in CANONICAL]
    assert serialized(page, models) == CANONICAL

    # Values as the builder's inputs give them: every text parses back to the same model and
    # evaluates as intended.
    tricky = 'it\'s a \\ "quote"\nnew line\ttab é'
    built = [
        {"op": "and", "items": [{"field": "traits.note", "op": "=", "value": tricky}]},
        {"op": "and", "items": [{"field": "event@x", "op": "in", "value": ["a,b", 5, False]}]},
        {"op": "and", "items": [{"field": "profile@n", "op": "between", "value": [1.5, 2]}]},
        {"op": "and", "items": [{"field": "profile@zip", "op": "=", "value": "007"}]},
        {"op": "and", "items": [{"field": "profile@t", "op": "in the last days", "value": 7}]},
        {"op": "and", "items": [{"field": "profile@a", "op": "is true"}]},
    ]
    texts = serialized(page, built)
    assert texts == [
        "profile@traits.note = 'it\\'s a \\\\ \"quote\"\\nnew line\\ttab é'",
        "event@x IN ['a,b', 5, false]",
        "profile@n BETWEEN 1.5 AND 2",
        "profile@zip = '007'",
        "profile@t >= now.offset('-7d')",
        "profile@a = true",
    ]
    for model, text in zip(built, texts, strict=True):
        expected = {**model, "items": [{**model["items"][0]}]}
        expected["items"][0]["field"] = text.split(" ")[0]
        assert condition_builder_model(text) == expected
    assert notation.evaluate(texts[0], {"profile": {"traits": {"note": tricky}}})
    assert notation.evaluate(texts[1], {"event": {"x": "a,b"}})
    assert notation.evaluate(texts[1], {"event": {"x": False}})
    assert not notation.evaluate(texts[1], {"event": {"x": "a"}})
    assert notation.evaluate(texts[2], {"profile": {"n": 2}})
    assert notation.evaluate(texts[3], {"profile": {"zip": "007"}})
    assert not notation.evaluate(texts[3], {"profile": {"zip": 7}})


def test_the_builder_above_a_segment_condition(page, live_server):
    """The segment form as it is configured (SegmentAdmin.condition_builder_fields): the
    builder above the textarea, profile fields only."""
    ProfileFactory(stats={"visits": 4}, traits={"plan": "pro"})
    page.goto(f"{live_server.url}/admin/profiles/segment/add/")
    builder = page.locator(".cdp-cond-builder")
    expect(builder.locator(".cdp-cond-empty")).to_be_visible()
    page.fill("#id_name", "Loyal pros")
    builder.locator(".cdp-cond-add").click()
    first = builder.locator(".cdp-cond-rule").first
    first.locator(".cdp-cond-field").fill("stats.visits")
    # A number field of the sampled profiles: number operators.
    expect(first.locator(".cdp-cond-op option")).to_have_text(
        ["equals", "does not equal", "greater than", "at least", "less than", "at most",
         "between", "is one of", "exists", "does not exist"]
    )  # fmt: skip
    first.locator(".cdp-cond-op").select_option("between")
    first.locator(".cdp-cond-value").nth(0).fill("3")
    first.locator(".cdp-cond-value").nth(1).fill("10")
    builder.locator(".cdp-cond-add").click()
    second = builder.locator(".cdp-cond-rule").nth(1)
    second.locator(".cdp-cond-field").fill("profile@traits.plan")
    second.locator(".cdp-cond-op").select_option("in")
    second.locator(".cdp-cond-value").fill("pro, team")
    builder.locator(".cdp-cond-join").select_option("or")

    condition = "profile@stats.visits BETWEEN 3 AND 10 OR profile@traits.plan IN ['pro', 'team']"
    expect(page.locator("#id_condition")).to_have_value(condition)
    page.locator("#id_condition").evaluate("element => element.scrollIntoView({block: 'center'})")
    shot(page, "08-segment-form")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Segment.objects.get(name="Loyal pros").condition == condition


SCALAR_OPS = ["=", "!=", ">", ">=", "<", "<=", "contains", "not contains", "starts with",
              "ends with"]  # fmt: skip
BARE_OPS = ["exists", "not exists", "empty", "not empty", "is true", "is false"]


def random_scalar(rng, *, booleans: bool = True):
    kind = rng.choice(["text", "int", "float", "bool"] if booleans else ["text", "int", "float"])
    if kind == "int":
        return rng.randint(-(10**12), 10**12)
    if kind == "float":
        return rng.choice([0.5, -2.25, 1e21, 3.14159, 1e-7])
    if kind == "bool":
        return rng.choice([True, False])
    alphabet = "ab Z09'\"\\\n\t,.()[]@éż€"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))


def random_rule(rng) -> dict:
    field = rng.choice(["profile@traits.plan", "profile@stats.visits", 'profile@data["a b"]'])
    op = rng.choice([*SCALAR_OPS, *BARE_OPS, "between", "in", "not in", "before", "after",
                     "between dates", "in the last days", "more than days ago"])  # fmt: skip
    rule = {"field": field, "op": op}
    if op in SCALAR_OPS:
        rule["value"] = random_scalar(rng, booleans=op != "=")
    elif op == "between":
        rule["value"] = [random_scalar(rng), random_scalar(rng)]
    elif op in ("in", "not in"):
        rule["value"] = [random_scalar(rng) for _ in range(rng.randint(0, 3))]
    elif op in ("before", "after"):
        rule["value"] = random_scalar(rng, booleans=False) if rng.random() < 0.3 else "2024-05-01"
        rule["value"] = str(rule["value"])
    elif op == "between dates":
        rule["value"] = ["2024-01-01", "2024-02-01T10:00:00+02:00"]
    elif op in ("in the last days", "more than days ago"):
        rule["value"] = rng.randint(0, 999)
    return rule


def random_group(rng, depth: int = 0) -> dict:
    items = []
    for _ in range(rng.randint(2, 4)):
        nested = depth < 1 and rng.random() < 0.3
        items.append(random_group(rng, depth + 1) if nested else random_rule(rng))
    return {"op": rng.choice(["and", "or"]), "items": items}


def test_every_model_the_builder_writes_reads_back_the_same(page, live_server, purchase):
    rng = random.Random(15)
    models = [random_group(rng) for _ in range(150)]
    models += [{"op": "and", "items": [random_rule(rng)]} for _ in range(100)]
    open_page(page, live_server, purchase)

    texts = serialized(page, models)

    for model, text in zip(models, texts, strict=True):
        assert condition_builder_model(text) == model, text
