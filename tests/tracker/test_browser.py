"""The tracker in a real browser against the real /track (see conftest.py for the set-up)."""

import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from tests.tracker.conftest import RECORDER, SOURCE_ID

pytestmark = pytest.mark.browser

SYSTEM_TYPES = ["profile-created", "session-opened", "visit-started"]
QUEUED_EVENTS = """<script>
  window.tracker.track("purchase-order", {"product": "Sun glasses - Badoo", "price": 13.45});
  window.tracker.track("interest", {"Electronics": ["Mobile phones", "Accessories"]});
</script>"""


def client_events() -> list[Event]:
    return list(Event.objects.exclude(type__in=SYSTEM_TYPES))


def type_counts(**filters) -> Counter:
    return Counter(Event.objects.filter(**filters).values_list("type", flat=True))


def wait_until(check, *, timeout: float = 10.0):
    """Polls the database for work the server does after the browser is done (beacons)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"Not true within {timeout} s: {check.__doc__ or check}")


def test_queued_events_go_out_in_one_request_and_are_stored(shop, shop_source):
    shop.serve("/sunglasses", head=QUEUED_EVENTS)

    page = shop.open("/sunglasses?utm_source=newsletter&utm_campaign=summer")
    [response] = shop.wait_responses(1)
    page.wait_for_timeout(300)  # room for a second request, which must not come

    assert len(shop.track_posts) == 1
    sent = shop.track_posts[0]
    assert sent["source"] == {"id": SOURCE_ID}
    assert "profile" not in sent  # a first visit: no profile id yet
    assert [event["type"] for event in sent["events"]] == ["purchase-order", "interest"]
    assert sent["events"][0]["properties"] == {"product": "Sun glasses - Badoo", "price": 13.45}
    assert sent["context"]["utm"] == {"source": "newsletter", "campaign": "summer"}
    assert sent["context"]["time"]["tz"] == "Europe/Warsaw"
    assert sent["context"]["browser"]["local"]["browser"]["language"] == "pl-PL"
    assert sent["context"]["screen"]["local"]["width"] == 1280

    assert response["status"] == 200
    profile_id = response["body"]["profile"]["id"]
    session_id = response["body"]["session"]["id"]
    assert shop.profile_id() == profile_id
    assert shop.session_cookie()["value"] == session_id == sent["session"]["id"]

    assert Event.objects.count() == 5
    assert type_counts() == Counter(
        {
            "purchase-order": 1,
            "interest": 1,
            "profile-created": 1,
            "session-opened": 1,
            "visit-started": 1,
        }
    )
    assert set(Event.objects.values_list("profile_id", "session_id")) == {(profile_id, session_id)}
    stored = {event.id: event for event in client_events()}
    assert set(stored) == {event["id"] for event in sent["events"]}
    purchase = stored[sent["events"][0]["id"]]
    assert purchase.properties == {"product": "Sun glasses - Badoo", "price": 13.45}
    page_url = f"{shop.url}/sunglasses?utm_source=newsletter&utm_campaign=summer"
    assert purchase.context["page"]["url"] == page_url
    assert purchase.context["page"]["path"] == "/sunglasses"
    assert purchase.context["page"]["title"] == "Sun glasses - Shop"
    assert Profile.objects.get().id == profile_id
    session = Session.objects.get()
    assert (session.id, session.profile_id) == (session_id, profile_id)
    assert session.utm == {"source": "newsletter", "campaign": "summer"}
    assert session.context["time"]["tz"] == "Europe/Warsaw"


def test_a_reload_reuses_the_profile_and_the_session(shop, shop_source):
    shop.serve("/sunglasses", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    [first] = shop.wait_responses(1)

    page.reload()
    [second] = shop.wait_responses(1)

    assert len(shop.track_posts) == 2
    assert shop.track_posts[1]["profile"] == first["body"]["profile"]
    assert shop.track_posts[1]["session"] == shop.track_posts[0]["session"]
    assert second["body"]["profile"] == first["body"]["profile"]
    assert second["body"]["session"] == first["body"]["session"]
    assert Profile.objects.count() == 1
    assert Session.objects.count() == 1
    # The second page view adds its own two events and no system event.
    assert type_counts() == Counter(
        {
            "purchase-order": 2,
            "interest": 2,
            "profile-created": 1,
            "session-opened": 1,
            "visit-started": 1,
        }
    )


def test_a_new_session_starts_once_the_session_cookie_has_expired(shop, shop_source):
    shop.serve("/sunglasses", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    [first] = shop.wait_responses(1)
    cookie = shop.session_cookie()
    assert cookie["value"] == first["body"]["session"]["id"]
    assert time.time() + 1800 - 60 < cookie["expires"] <= time.time() + 1800 + 1

    # 30 minutes without activity: the browser drops the cookie.
    page.context.add_cookies([{**cookie, "expires": time.time() - 1}])
    assert shop.session_cookie() is None
    page.reload()
    [second] = shop.wait_responses(1)

    new_session_id = second["body"]["session"]["id"]
    assert new_session_id != first["body"]["session"]["id"]
    assert shop.session_cookie()["value"] == new_session_id
    assert second["body"]["profile"] == first["body"]["profile"]
    assert Profile.objects.count() == 1
    assert Session.objects.count() == 2
    assert type_counts(session_id=new_session_id) == Counter(
        {"purchase-order": 1, "interest": 1, "session-opened": 1, "visit-started": 1}
    )
    assert Event.objects.count() == 9
    assert Profile.objects.get().visit_count == 2


def test_the_session_cookie_expiry_slides_with_each_send(shop, shop_source):
    shop.serve("/sunglasses", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    shop.wait_responses(1)
    first = shop.session_cookie()

    page.wait_for_timeout(1200)
    page.evaluate("window.tracker.track('scrolled', {depth: 50}, {fire: true})")
    shop.wait_responses(2)

    later = shop.session_cookie()
    assert later["value"] == first["value"]
    assert later["expires"] >= first["expires"] + 1
    assert type_counts(type="scrolled") == Counter({"scrolled": 1})


def test_fire_sends_an_event_at_once_and_the_page_events_follow(shop, shop_source):
    shop.serve(
        "/sunglasses",
        head="""<script>
          window.tracker.track("page-view", {});
          window.tracker.track("add-to-cart", {"sku": "SG-1"}, {fire: true});
        </script>""",
    )
    shop.open("/sunglasses")
    first, second = shop.wait_responses(2)

    assert [[event["type"] for event in post["events"]] for post in shop.track_posts] == [
        ["add-to-cart"],
        ["page-view"],
    ]
    # The page's batch waited for the first answer, so it names the profile that answer gave.
    assert shop.track_posts[1]["profile"] == first["body"]["profile"]
    assert Profile.objects.count() == 1
    assert Session.objects.count() == 1
    assert Event.objects.count() == 5
    visit = Event.objects.get(type="visit-started")
    assert visit.properties == {"trigger-event-types": ["add-to-cart"]}


TRIGGERS = {
    "events": [["page-view", {"page": "product"}]],
    "triggers": [
        {
            "tag": "banner",
            "trigger": "onVisible",
            "data": {"event": "banner-viewed", "properties": {"campaign": "summer"}},
        },
        {"tag": "description", "trigger": "onTextSelect", "data": {"event": "text-selected"}},
        {"tag": "product", "trigger": "onMouseOver", "data": {"event": "product-hovered"}},
        {
            "tag": "buy",
            "trigger": "onClick",
            "data": {"event": "buy-clicked", "properties": {"sku": "SG-1"}},
        },
    ],
}
TAGGED_PAGE = """
<p id="description" data-tracardi-tag="description">Polarised lenses in a light frame.</p>
<div id="product" data-tracardi-tag="product" title="Sun glasses - Badoo">Sun glasses</div>
<button id="buy" data-tracardi-tag="buy" type="button">Buy</button>
<div style="height: 3000px"></div>
<div id="banner" data-tracardi-tag="banner" title="Summer sale" style="height: 200px">Sale</div>
"""


def test_triggers_fire_on_selected_hovered_clicked_and_visible_elements(shop, shop_source):
    shop.serve("/product", body=TAGGED_PAGE, auto=TRIGGERS)
    page = shop.open("/product")
    shop.wait_responses(1)
    page.wait_for_timeout(300)
    assert [post["events"][0]["type"] for post in shop.track_posts] == ["page-view"]

    box = page.locator("#description").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    shop.wait_responses(2)
    selected = page.evaluate("window.getSelection().toString().trim()")
    assert selected.startswith("Polarised lenses")

    page.hover("#product")
    shop.wait_responses(3)
    page.mouse.move(5, 5)
    page.hover("#product")  # a second hover of the same element sends nothing more

    page.click("#buy")
    shop.wait_responses(4)

    page.locator("#banner").scroll_into_view_if_needed()
    shop.wait_responses(5)
    page.wait_for_timeout(300)

    sent_types = [[event["type"] for event in post["events"]] for post in shop.track_posts]
    assert sent_types == [
        ["page-view"],
        ["text-selected"],
        ["product-hovered"],
        ["buy-clicked"],
        ["banner-viewed"],
    ]
    stored = {event.type: event for event in client_events()}
    assert sorted(stored) == sorted(
        ["page-view", "text-selected", "product-hovered", "buy-clicked", "banner-viewed"]
    )
    assert stored["text-selected"].properties == {
        "tag": "description",
        "elementId": "description",
        "text": selected,
    }
    assert stored["product-hovered"].properties == {
        "tag": "product",
        "elementId": "product",
        "label": "Sun glasses - Badoo",
    }
    assert stored["buy-clicked"].properties == {"tag": "buy", "elementId": "buy", "sku": "SG-1"}
    assert stored["banner-viewed"].properties == {
        "tag": "banner",
        "elementId": "banner",
        "label": "Summer sale",
        "campaign": "summer",
    }
    assert Event.objects.count() == 8
    assert len(set(Event.objects.values_list("session_id", flat=True))) == 1


def test_events_left_unsent_go_out_by_beacon_when_the_page_is_left(shop, shop_source):
    # The stalled image keeps the page from finishing loading, so the tracker still holds the
    # event (page events go out after load) when the visitor leaves.
    shop.serve(
        "/article",
        head='<script>window.tracker.track("article-read", {"words": 900});</script>',
        body='<img src="/stall" alt="">',
    )
    shop.serve_raw("/next", "<!doctype html><title>Next</title><p>next page</p>")
    page = shop.page
    page.goto(shop.url + "/article", wait_until="domcontentloaded")
    page.wait_for_function("window.tracker && window.tracker.loaded === true")
    session_id = shop.session_cookie()

    page.goto(shop.url + "/next")

    stored = wait_until(lambda: Event.objects.filter(type="article-read").first())
    assert stored.properties == {"words": 900}
    # Sent by navigator.sendBeacon: the tracker's beacons are text/plain, its fetches JSON.
    assert stored.request["headers"]["content-type"] == "text/plain;charset=utf-8"
    assert shop.track_posts == []
    assert session_id is None  # the session cookie is written when something is sent
    assert stored.session_id == shop.session_cookie()["value"]
    assert wait_until(lambda: Event.objects.count() == 4)


def test_as_beacon_sends_at_once_with_send_beacon(shop, shop_source):
    shop.serve("/sunglasses", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    [first] = shop.wait_responses(1)

    page.evaluate(
        "window.tracker.track('outbound-link', {href: 'https://example.com'}, {asBeacon: true})"
    )

    stored = wait_until(lambda: Event.objects.filter(type="outbound-link").first())
    assert stored.properties == {"href": "https://example.com"}
    assert stored.profile_id == first["body"]["profile"]["id"]
    assert stored.request["headers"]["content-type"] == "text/plain;charset=utf-8"
    assert Event.objects.get(type="interest").request["headers"]["content-type"] == (
        "application/json"
    )
    # (This round trip to the browser also delivers its pending request events to the test.)
    assert page.evaluate("window.__tracker.requests.map(r => r.beacon)") == [False, True]
    assert [request.resource_type for request in shop.track_requests] == ["fetch", "ping"]


def test_a_failed_send_is_retried_with_the_same_event_ids_and_stored_once(shop, shop_source):
    attempts = []

    def lose_the_first_answer(route):
        attempts.append(route.request.post_data)
        if len(attempts) == 1:
            route.fetch()  # the server receives and stores the events ...
            route.abort("connectionreset")  # ... but the browser never hears back
        else:
            route.continue_()

    shop.page.route(shop.api_url + "/track", lose_the_first_answer)
    shop.serve("/sunglasses", head=QUEUED_EVENTS, tracker_settings={"retry": {"delay": 200}})
    shop.open("/sunglasses")
    lost, response = shop.wait_responses(2)

    assert lost["status"] == 0
    assert response["status"] == 200
    assert len(attempts) == 2
    assert attempts[1] == attempts[0]  # same payload, same event ids
    assert Event.objects.count() == 5
    assert type_counts() == Counter(
        {
            "purchase-order": 1,
            "interest": 1,
            "profile-created": 1,
            "session-opened": 1,
            "visit-started": 1,
        }
    )
    assert shop.profile_id() == response["body"]["profile"]["id"]
    assert any("retrying in" in text for kind, text in shop.console if kind == "warning")


def test_ux_items_of_the_answer_are_added_to_the_page(shop, shop_source):
    # The only test with a fake /track: the server's workflows do not produce ux items yet,
    # so the browser answers this one request itself.
    answer = {
        "task": "t-1",
        "ux": [
            {"tag": "div", "props": {"id": "cdp-offer", "class": "offer"}, "content": "20% off"},
            {"tag": "script", "props": {}, "content": "window.uxRan = 'yes';"},
        ],
        "response": {},
        "events": [],
        "profile": {"id": "p-ux"},
        "session": {"id": "s-ux"},
        "errors": [],
        "warnings": [],
    }
    shop.page.route(
        shop.api_url + "/track",
        lambda route: route.fulfill(
            status=200, json=answer, headers={"Access-Control-Allow-Origin": "*"}
        ),
    )
    shop.serve("/sunglasses", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    shop.wait_responses(1)

    offer = page.locator("#cdp-offer")
    assert offer.text_content() == "20% off"
    assert offer.get_attribute("class") == "offer"
    assert page.evaluate("window.uxRan") == "yes"
    assert shop.profile_id() == "p-ux"
    assert shop.session_cookie()["value"] == "s-ux"


def test_an_unknown_source_leaves_a_readable_console_error_and_no_data(shop, transactional_db):
    shop.serve("/sunglasses", source_id="no-such-source", head=QUEUED_EVENTS)
    page = shop.open("/sunglasses")
    [response] = shop.wait_responses(1)
    page.evaluate("window.tracker.track('later', {}, {fire: true})")
    page.wait_for_timeout(300)

    assert response == {"status": 401, "body": {"detail": "Access denied. Invalid source."}}
    assert len(shop.track_posts) == 1  # refused once: the tracker stops sending
    tracker_errors = [text for text in shop.errors() if text.startswith("[Tracker]")]
    assert tracker_errors == [
        f'[Tracker] The CDP at {shop.api_url}/track refused event source "no-such-source" '
        "(Access denied. Invalid source.). Check options.tracker.source.id in the snippet: "
        'it must be the id of an enabled event source with bridge "REST API (/track)" in the '
        "CDP admin. Nothing is tracked on this page."
    ]
    assert shop.profile_id() is None
    assert (Event.objects.count(), Profile.objects.count(), Session.objects.count()) == (0, 0, 0)


def test_do_not_track_is_respected_when_the_site_asks_for_it(shop, shop_source):
    shop.page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"
    )
    shop.serve("/sunglasses", head=QUEUED_EVENTS, tracker_settings={"respectDoNotTrack": True})
    page = shop.open("/sunglasses")
    page.wait_for_function("window.tracker && window.tracker.loaded === true")
    page.evaluate("window.tracker.track('later', {}, {fire: true})")
    page.wait_for_timeout(400)

    assert shop.track_posts == []
    assert shop.session_cookie() is None
    assert shop.profile_id() is None
    assert Event.objects.count() == 0
    assert any("asks not to be tracked" in text for _, text in shop.console)


FOREIGN_LOADER_PAGE = """<!doctype html><html><head><title>Tracardi loader</title><script>
const options = {tracker: {url: {script: '%(api)s/tracker', api: '%(api)s'},
                           source: {id: '%(source)s'}}};
// A loader written to Tracardi's documented protocol: it queues calls itself, loads
// <script>/liliput.min.js, checks getState() and hands its queue to window.tracardi.default.
(function () {
  var calls = [];
  window.tracker = {track: function () { calls.push([].slice.call(arguments)); }};
  document.addEventListener('DOMContentLoaded', function () {
    var script = document.createElement('script');
    script.src = options.tracker.url.script + '/liliput.min.js';
    script.addEventListener('load', function () {
      if (!window.tracardi.default.getState().plugins.tracardi.initialized) { return; }
      window.tracker = window.tracardi.default;
      while (calls.length) { window.tracker.track.apply(window.tracker, calls.shift()); }
    });
    document.head.appendChild(script);
  });
})();
window.tracker.track("purchase-order", {"price": 13.45});
</script></head><body>shop</body></html>"""


def test_a_page_with_a_tracardi_style_loader_works_unchanged(shop, shop_source):
    shop.serve_raw("/tracardi", FOREIGN_LOADER_PAGE % {"api": shop.api_url, "source": SOURCE_ID})
    shop.open("/tracardi")
    [response] = shop.wait_responses(1)

    assert response["status"] == 200
    assert [event["type"] for event in shop.track_posts[0]["events"]] == ["purchase-order"]
    assert Event.objects.count() == 4


def staff_page(browser, live_server, admin_user):
    client = Client()
    client.force_login(admin_user)
    context = browser.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.add_init_script(RECORDER)
    return page


def test_the_staff_test_page_tracks_with_the_sources_snippet(
    browser, live_server, shop_source, admin_user, settings
):
    settings.CDP_PUBLIC_URL = live_server.url
    page = staff_page(browser, live_server, admin_user)
    page.goto(f"{live_server.url}/tracker/test/{SOURCE_ID}/")
    page.wait_for_function("window.__tracker.responses.length >= 1")

    page.click("#send-test-event")
    page.wait_for_function("window.__tracker.responses.length >= 2")

    assert page.evaluate("window.__tracker.responses.map(r => r.status)") == [200, 200]
    # The page's banner is below the fold, so these two are all it sent.
    assert Counter(event.type for event in client_events()) == Counter(
        {"page-view": 1, "test-event": 1}
    )
    assert Event.objects.get(type="test-event").properties == {"sentFrom": "tracker test page"}
    assert page.locator("#tracker-log li").count() == 4
    page.context.close()


def test_the_demo_page_shows_the_tracker_at_work(browser, live_server, admin_user, settings):
    settings.CDP_PUBLIC_URL = live_server.url
    call_command("ensure_demo_source")
    page = staff_page(browser, live_server, admin_user)
    page.goto(f"{live_server.url}/tracker/demo/")
    page.wait_for_function("window.__tracker.responses.length >= 1")

    page.click("#add-to-cart")
    # The hero is on screen at once (its event joins the first request or follows it) and the
    # click passes over the hovered product, so the answers come in no fixed number or order.
    added = wait_until(lambda: Event.objects.filter(type="add-to-cart").first())
    wait_until(lambda: Event.objects.filter(type="hero-viewed").exists())

    first_request = page.evaluate("window.__tracker.requests[0].payload.events.map(e => e.type)")
    assert first_request[:2] == ["page-view", "product-viewed"]
    assert type_counts(type__in=["page-view", "product-viewed", "hero-viewed"]) == Counter(
        {"page-view": 1, "product-viewed": 1, "hero-viewed": 1}
    )
    assert added.properties == {
        "tag": "add-to-cart",
        "elementId": "add-to-cart",
        "product": "Sun glasses",
    }
    assert set(Event.objects.values_list("source_id", flat=True)) == {"demo-source"}
    log = page.locator("#tracker-log").inner_text()
    assert "answer HTTP 200" in log and "POST /track: add-to-cart" in log
    page.context.close()
