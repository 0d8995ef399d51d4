"""Issue 16 end to end, in a real browser, with nothing stubbed: the page's tracker posts to
the real /track, a rule that answers in the request runs its workflow there, the widget the
workflow adds comes back in the answer, and the visitor's choice goes back through /track to
a real Celery worker that writes the profile."""

from pathlib import Path

import pytest

from apps.events.models import Event
from apps.profiles.models import ConsentType, Profile, empty_profile_data
from apps.workflows.models import Rule
from apps.workflows.services.workflows import workflow_create
from tests.profiles.factories import ProfileFactory
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401 - a fixture
from tests.tracker.conftest import SOURCE_ID
from tests.tracker.test_widgets_browser import open_product_page
from tests.workflows.graphs import edge, graph, linear_graph, node

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SHOTS = Path("/tmp/shots-personalisation")


def _answering_rule(name: str, workflow_graph: dict, event_type: str = "page-view") -> None:
    workflow = workflow_create(name=name, graph=workflow_graph)
    Rule.objects.create(
        name=name, event_type=event_type, workflow=workflow, answers_in_request=True
    )


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_consent_bar_from_a_workflow_and_the_visitors_choice_on_the_profile(
    shop,
    shop_source,
    celery_worker,  # noqa: F811
):
    ConsentType.objects.create(id="marketing", name="Newsletter", description="News by e-mail.")
    ConsentType.objects.create(
        id="analytics", name="Statistics", description="Anonymous statistics.", auto_revoke_days=30
    )
    _answering_rule("Ask for consent", linear_graph(("ux_consent_bar", {})))

    page = open_product_page(shop)
    bar = page.locator(".cdpw-box")
    bar.wait_for(timeout=20000)
    assert bar.locator(".cdpw-choice-name").all_inner_texts() == ["Newsletter", "Statistics"]
    _shot(page, "consent-bar-from-a-rule")

    bar.locator("[data-consent=marketing]").click()
    bar.get_by_role("button", name="Save my choices").click()

    profile_id = shop.profile_id()
    wait_for(
        lambda: "marketing" in (Profile.objects.get(pk=profile_id).consents or {}),
        timeout=60,
        message="the worker storing the visitor's consent on the profile",
    )
    consents = Profile.objects.get(pk=profile_id).consents
    assert set(consents) == {"marketing"}
    assert consents["marketing"]["revoke"] is None
    given = Event.objects.get(type="consent-given", profile_id=profile_id)
    assert given.properties == {"consents": {"marketing": True, "analytics": False}}


BIG_SPENDER = graph(
    [
        node("start", "start"),
        node("big", "if", name="Big spender?", condition="profile@traits.total_spent > 1000"),
        node(
            "cta",
            "ux_call_to_action",
            name="Offer",
            text="{{profile@data.pii.firstname}}, 20% off your next order is waiting.",
            link_url="/vip",
            link_label="See the offer",
        ),
    ],
    [edge("start", "big"), edge("big", "cta", "true")],
)


def _visitor(shop, *, spent: int, firstname: str) -> str:
    data = empty_profile_data()
    data["pii"]["firstname"] = firstname
    profile = ProfileFactory(traits={"total_spent": spent}, data=data)
    shop.page.add_init_script(f"localStorage.setItem('tracardi-profile-id', {profile.pk!r});")
    return profile.pk


def test_a_big_spender_rule_shows_a_call_to_action(shop, shop_source):
    _answering_rule("Big spenders", BIG_SPENDER)
    profile_id = _visitor(shop, spent=1500, firstname="Anna")

    page = open_product_page(shop)
    message = page.locator(".cdpw-box")
    message.wait_for(timeout=20000)
    assert shop.profile_id() == profile_id
    assert message.locator(".cdpw-message").inner_text() == (
        "Anna, 20% off your next order is waiting."
    )
    assert message.get_by_role("link", name="See the offer").get_attribute("href") == "/vip"
    _shot(page, "big-spender-offer")


def test_a_small_spender_sees_no_call_to_action(shop, shop_source):
    _answering_rule("Big spenders", BIG_SPENDER)
    _visitor(shop, spent=20, firstname="Bob")

    page = open_product_page(shop)
    answer = shop.wait_responses(1)[0]
    assert (answer["status"], answer["body"]["ux"], answer["body"]["warnings"]) == (200, [], [])
    assert page.locator(".cdp-widget").count() == 0


def test_a_rating_popup_answer_lands_on_the_profile_timeline(shop, shop_source):
    _answering_rule(
        "Rate the product", linear_graph(("ux_rating_popup", {"subject": "Sun glasses"}))
    )
    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for(timeout=20000)
    popup.get_by_role("button", name="5 of 5 stars").click()

    profile_id = shop.profile_id()
    wait_for(
        lambda: Event.objects.filter(type="rating-given", profile_id=profile_id).exists(),
        timeout=30,
        message="the rating stored on the profile",
    )
    rating = Event.objects.get(type="rating-given", profile_id=profile_id)
    assert rating.properties == {"rating": 5, "subject": "Sun glasses"}
    assert rating.source_id == SOURCE_ID
