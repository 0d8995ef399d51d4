"""The UX widgets in a real browser: the real tracker, the real widget scripts from
/tracker/widgets/ and the real /track (see conftest.py), on a product page of a shop.

Until rules that answer in the request fill `ux` (another piece of work), each test's first
/track answer gets the ux items its widget action produced in Python: Playwright's routing
forwards the request to the real /track (events are stored as usual) and adds the items to the
real answer. Every later request goes to /track untouched.
"""

import json
import time
from pathlib import Path

import pytest

from apps.events.models import Event
from apps.profiles.models import ConsentType
from tests.tracker.conftest import Shop
from tests.workflows.graphs import run_action

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-wt-widgets")
# A shop's product page with CSS that would wreck a widget it could reach (serif fonts,
# red buttons, huge paragraph margins).
PRODUCT_PAGE = """
<style>
  body { margin: 0; font-family: Georgia, serif; color: #333; background: #faf7f2; }
  header { background: #2d2a26; color: #fff; padding: 14px 32px; font-size: 22px; }
  main { display: flex; flex-wrap: wrap; gap: 40px; padding: 40px 32px; }
  .photo { width: 420px; height: 320px; border-radius: 6px;
           background: linear-gradient(135deg, #d9c7a7, #8a6f4d); }
  h1 { font-size: 34px; margin: 0 0 12px; }
  p { margin: 2em 0; font-size: 18px; }
  button { background: #e4312b; color: #fff; font-size: 20px; border: 0; padding: 14px 28px;
           border-radius: 0; text-transform: uppercase; }
  .price { font-size: 28px; color: #b1361e; }
</style>
<header>Sunny Optics</header>
<main>
  <div class="photo" role="img" aria-label="Sun glasses"></div>
  <div>
    <h1>Sun glasses - Badoo</h1>
    <div class="price">13.45 EUR</div>
    <p>Polarised lenses in a light acetate frame. Free delivery over 50 EUR.</p>
    <button id="buy" type="button">Add to cart</button>
  </div>
</main>
"""
PAGE_VIEW = '<script>window.tracker.track("page-view", {});</script>'


def ux_of(action_id: str, config: dict, **flow_kwargs) -> list[dict]:
    """The ux items a widget action appends when a workflow runs it."""
    _, flow = run_action(action_id, config, **flow_kwargs)
    return flow.ux


def answer_first_track_with(shop: Shop, ux: list[dict], response: dict | None = None) -> None:
    answered = []

    def handle(route):
        if route.request.method != "POST" or answered:
            route.continue_()
            return
        real = route.fetch()
        body = real.json()
        body["ux"] = ux
        if response is not None:
            body["response"] = response
        answered.append(body)
        route.fulfill(response=real, json=body)

    shop.page.route(shop.api_url + "/track", handle)


def open_product_page(shop: Shop, head: str = PAGE_VIEW):
    shop.serve("/sunglasses", head=head, body=PRODUCT_PAGE)
    page = shop.open("/sunglasses")
    shop.wait_responses(1)
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def stored_event(event_type: str, *, timeout: float = 15.0) -> Event:
    """The one stored event of `event_type`, waiting for the server to store it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = list(Event.objects.filter(type=event_type))
        if events:
            [event] = events
            return event
        time.sleep(0.05)
    raise AssertionError(f"No {event_type} event stored within {timeout} s")


def widget_messages(shop: Shop) -> list[str]:
    return [text for _, text in shop.console if "widget skipped" in text]


# -- consent bar -----------------------------------------------------------------------------


def test_the_consent_bar_offers_the_types_and_sends_the_visitors_choice(shop, shop_source):
    ConsentType.objects.create(
        id="necessary",
        name="Necessary",
        description="Keeps the cart and the checkout working.",
        required=True,
    )
    ConsentType.objects.create(
        id="marketing",
        name="Marketing",
        description="Offers and news by e-mail.",
        default_granted=True,
    )
    ConsentType.objects.create(
        id="analytics", name="Analytics", description="Anonymous visit statistics."
    )
    answer_first_track_with(shop, ux_of("ux_consent_bar", {}))

    page = open_product_page(shop)
    bar = page.locator(".cdpw-box")
    bar.wait_for()

    assert bar.locator(".cdpw-choice-name").all_inner_texts() == [
        "Analytics",
        "Marketing",
        "Necessary (always on)",
    ]
    boxes = bar.locator("input[type=checkbox]")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [False, True, True]
    assert boxes.nth(2).is_disabled()
    shot(page, "consent-bar")
    page.set_viewport_size({"width": 390, "height": 760})
    shot(page, "consent-bar-phone")

    bar.locator("[data-consent=analytics]").click()
    bar.locator("[data-consent=marketing]").click()
    bar.get_by_role("button", name="Save my choices").click()

    event = stored_event("consent-given")
    assert event.properties == {
        "consents": {"analytics": True, "marketing": False, "necessary": True}
    }
    assert event.profile_id == shop.profile_id()
    assert page.locator(".cdpw-box").count() == 0
    assert [post["events"][0]["type"] for post in shop.track_posts] == [
        "page-view",
        "consent-given",
    ]


# -- call to action --------------------------------------------------------------------------


# How long after the answer's ux items were on the page the message was drawn (its shadow root
# is made when it shows). Timers never fire early, so a lower bound holds on a busy machine.
TIME_TO_SHOW = """
window.addEventListener("tracker:ux", function () {
  var start = performance.now();
  (function poll() {
    var host = document.querySelector(".cdp-widget[data-widget=message]");
    if (host && host.shadowRoot) {
      window.__shownAfter = performance.now() - start;
    } else {
      setTimeout(poll, 10);
    }
  })();
});
"""


def test_a_call_to_action_shows_its_templated_text_and_link(shop, shop_source):
    ux = ux_of(
        "ux_call_to_action",
        {
            "text": "Hi {{profile@data.pii.firstname}}, your 15% summer coupon is waiting.",
            "link_url": "/sale?coupon=SUMMER15",
            "link_label": "Use my coupon",
            "show_after_seconds": 1,
        },
        profile={"id": "p1", "data": {"pii": {"firstname": "Anna"}}},
    )
    answer_first_track_with(shop, ux)
    shop.page.add_init_script(TIME_TO_SHOW)

    page = open_product_page(shop)
    message = page.locator(".cdpw-box")
    message.wait_for(timeout=15000)
    page.wait_for_function("window.__shownAfter !== undefined")

    assert page.evaluate("window.__shownAfter") >= 1000  # show_after_seconds: 1

    assert message.locator(".cdpw-message").inner_text() == (
        "Hi Anna, your 15% summer coupon is waiting."
    )
    link = message.get_by_role("link", name="Use my coupon")
    assert link.get_attribute("href") == "/sale?coupon=SUMMER15"
    shot(page, "cta-corner")

    message.get_by_role("button", name="Close").click()
    assert page.locator(".cdpw-box").count() == 0


def test_a_call_to_action_bar_at_the_top(shop, shop_source):
    ux = ux_of(
        "ux_call_to_action",
        {
            "text": "Free delivery on every order this weekend.",
            "link_url": "https://shop.example/delivery",
            "link_label": "Details",
            "position": "top",
            "background_colour": "#fff4ce",
            "button_colour": "#2d2a26",
        },
    )
    answer_first_track_with(shop, ux)

    page = open_product_page(shop)
    page.locator(".cdpw-bar-top").wait_for()

    shot(page, "cta-top-bar")
    assert page.locator(".cdpw-button").inner_text() == "Details"


# -- rating ----------------------------------------------------------------------------------


def test_a_click_on_the_fourth_star_sends_rating_4_to_the_profile_timeline(shop, shop_source):
    answer_first_track_with(shop, ux_of("ux_rating_popup", {"subject": "Sun glasses - Badoo"}))

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()
    assert popup.locator(".cdpw-title").inner_text() == "How did we do?"
    assert popup.locator(".cdpw-subject").inner_text() == "Sun glasses - Badoo"
    popup.get_by_role("button", name="4 of 5 stars").hover()
    shot(page, "rating-popup")

    popup.get_by_role("button", name="4 of 5 stars").click()
    assert page.get_by_role("status").inner_text() == "Thank you for your rating!"

    event = stored_event("rating-given")
    assert event.properties == {"rating": 4, "subject": "Sun glasses - Badoo"}
    profile_id = shop.profile_id()
    assert (event.profile_id, event.session_id) == (profile_id, shop.session_cookie()["value"])
    assert list(
        Event.objects.filter(profile_id=profile_id).order_by("time").values_list("type", flat=True)
    )[-1:] == ["rating-given"]


def test_the_rating_popup_on_a_phone(shop, shop_source):
    answer_first_track_with(shop, ux_of("ux_rating_popup", {"subject": "Delivery"}))
    shop.page.set_viewport_size({"width": 390, "height": 760})

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()

    box = popup.bounding_box()
    assert (box["x"], box["width"]) == (0, 390)  # spans the bottom of a narrow screen
    assert box["y"] + box["height"] == 760
    shot(page, "rating-popup-phone")


# -- question and contact form ---------------------------------------------------------------


def test_a_question_with_answers_sends_the_one_clicked(shop, shop_source):
    ux = ux_of(
        "ux_question_popup",
        {"question": "Who are you shopping for today?", "answers": ["Myself", "A gift"]},
    )
    answer_first_track_with(shop, ux)

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()
    shot(page, "question-popup")
    popup.get_by_role("button", name="A gift").click()

    event = stored_event("question-answered")
    assert event.properties == {"question": "Who are you shopping for today?", "answer": "A gift"}


def test_a_question_without_answers_takes_a_typed_one(shop, shop_source):
    ux = ux_of(
        "ux_question_popup",
        {"title": "", "question": "What would make this frame perfect for you?"},
    )
    answer_first_track_with(shop, ux)

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()
    popup.get_by_role("button", name="Send").click()
    assert popup.get_by_role("alert").inner_text() == "Please write an answer first."
    popup.get_by_role("textbox").fill("  A blue version  ")
    shot(page, "question-popup-free-text")
    popup.get_by_role("button", name="Send").click()

    event = stored_event("question-answered")
    assert event.properties == {
        "question": "What would make this frame perfect for you?",
        "answer": "A blue version",
    }


def test_a_popup_works_with_the_keyboard(shop, shop_source):
    answer_first_track_with(shop, ux_of("ux_rating_popup", {"subject": "Delivery"}))

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()
    star = popup.get_by_role("button", name="5 of 5 stars")
    star.press("Enter")  # focuses the star, then presses the key
    # The star is gone (the thank-you text replaced it): the focus is on "Close".
    focused = "document.activeElement.shadowRoot.activeElement.getAttribute('aria-label')"
    assert page.evaluate(focused) == "Close"
    page.keyboard.press("Escape")

    assert page.locator(".cdpw-box").count() == 0
    assert stored_event("rating-given").properties == {"rating": 5, "subject": "Delivery"}


def test_a_contact_form_checks_its_fields_then_sends_an_identification(shop, shop_source):
    ux = ux_of(
        "ux_contact_form_popup",
        {"fields": ["email", "phone"], "consent_text": "I agree to hear about new arrivals."},
    )
    answer_first_track_with(shop, ux)

    page = open_product_page(shop)
    popup = page.locator(".cdpw-box")
    popup.wait_for()
    popup.get_by_label("E-mail").fill("anna.example.com")
    popup.get_by_role("button", name="Send").click()
    assert popup.get_by_role("alert").inner_text() == (
        "Please enter an e-mail address like name@example.com."
    )
    popup.get_by_label("E-mail").fill("anna@example.com")
    popup.get_by_label("Phone").fill("+48 600 100 200")
    popup.get_by_role("button", name="Send").click()
    assert popup.get_by_role("alert").inner_text() == "Please tick the box to agree first."
    shot(page, "contact-popup")
    popup.get_by_role("checkbox").check()
    popup.get_by_role("button", name="Send").click()

    event = stored_event("identification")
    assert event.properties == {"email": "anna@example.com", "phone": "+48 600 100 200"}
    assert event.profile_id == shop.profile_id()


# -- broken configs, HTML tags and the answer's response -------------------------------------


def test_a_broken_widget_config_shows_nothing_and_logs_one_readable_message(shop, shop_source):
    marker, script = ux_of("ux_rating_popup", {"subject": "Shoes"})
    config = json.loads(marker["props"]["data-config"])
    del config["subject"]
    broken = {**marker, "props": {**marker["props"], "data-config": json.dumps(config)}}
    answer_first_track_with(shop, [broken, script])

    page = open_product_page(shop)
    page.wait_for_selector(".cdp-widget[data-cdp-state=skipped]", state="attached")

    assert page.locator(".cdpw-box").count() == 0
    assert widget_messages(shop) == ["[Tracker] rating widget skipped: subject is empty"]
    # The tracker goes on working.
    page.evaluate("window.tracker.track('add-to-cart', {sku: 'SG-1'}, {fire: true})")
    stored_event("add-to-cart")


def test_a_marker_that_is_not_json_is_skipped_with_one_message(shop, shop_source):
    marker, script = ux_of("ux_question_popup", {"question": "Why?"})
    broken = {**marker, "props": {**marker["props"], "data-config": "{not json"}}
    answer_first_track_with(shop, [broken, script])

    page = open_product_page(shop)
    page.wait_for_selector(".cdp-widget[data-cdp-state=skipped]", state="attached")

    [message] = widget_messages(shop)
    assert message.startswith("[Tracker] question widget skipped: data-config is not valid JSON (")


def test_an_html_tag_runs_its_scripts(shop, shop_source):
    html = (
        '<div id="promo" style="padding:12px;background:#222;color:#fff">Summer sale</div>'
        "<script>window.promoRan = (window.promoRan || 0) + 1;"
        "document.getElementById('promo').textContent += ' - 20% off';</script>"
    )
    answer_first_track_with(shop, ux_of("ux_html_tag", {"html": html}))

    page = open_product_page(shop)
    page.wait_for_function("window.promoRan === 1")

    assert page.locator("#promo").inner_text() == "Summer sale - 20% off"
    shot(page, "html-tag")


# Set in the page's head, before the tracker has loaded: the loader queues onResponse too.
ON_RESPONSE_PAGE = """<script>
  window.seen = [];
  window.tracker.track("page-view", {});
  window.tracker.onResponse(function () { throw new Error("boom"); });
  window.tracker.onResponse(function (response) { window.seen.push(response); });
  window.onTracardiReady.bind(function (params) {
    window.ready = {
      offer: params.context.response.offer, tracker: params.tracker === window.tracker
    };
  });
</script>"""


def test_a_throwing_on_response_callback_does_not_break_the_tracker(shop, shop_source):
    answer_first_track_with(shop, [], response={"offer": "summer"})
    shop.serve("/sunglasses", head=ON_RESPONSE_PAGE, body=PRODUCT_PAGE)
    page = shop.open("/sunglasses")

    shop.wait_responses(1)
    page.wait_for_function("window.seen.length === 1")
    page.evaluate("window.tracker.track('add-to-cart', {sku: 'SG-1'}, {fire: true})")
    page.wait_for_function("window.seen.length === 2")

    assert page.evaluate("window.seen") == [{"offer": "summer"}, {}]
    assert page.evaluate("window.ready") == {"offer": "summer", "tracker": True}
    failures = [text for text in shop.errors() if "onResponse" in text]
    assert failures == ["[Tracker] An onResponse callback failed: boom"] * 2
    assert stored_event("add-to-cart").profile_id == shop.profile_id()
