"""Issue 21 in the browser: what a site that ran Tracardi does, from a page on another origin.

The CDP is pytest-django's live server (http://localhost:<port>); the shop is another local
server (http://127.0.0.1:<port>), so every call is cross-origin, with CORS, as on a real site.
"""

import json
import threading

import pytest
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.documents import profile_new
from apps.profiles.models import MergeRecord, Profile, Session
from apps.sources.services import event_source_create
from tests.tracker.conftest import SOURCE_ID, ShopServer
from tests.tracker.test_browser import wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _favicon(shop):
    # Chromium asks for it; a 404 would be a console error, and these tests want none.
    shop.server.pages["/favicon.ico"] = ""


# ---- item 1: Tracardi's tracker sends beacons (always with credentials) and headers ------

# What Tracardi's liliput.min.js sends for `asBeacon: true` (its apiCall.js): the
# TrackerPayload as an application/json Blob through navigator.sendBeacon, which always sends
# credentials (so a preflight with credentials). The payload's shape is Tracardi's
# (event.static + event.dynamic): metadata, source, context, profile, device, session,
# options, events[{time, properties, type, options, context}].
TRACARDI_BEACON = """<script>
  window.sendTracardiBeacon = function (api, sourceId) {
    var payload = {
      source: {id: sourceId},
      session: {id: "tracardi-session-1"},
      profile: null,
      device: {id: "device-1"},
      context: {time: {local: "3.12.2026, 10:00:00", tz: "Europe/Warsaw"}},
      options: {},
      events: [{
        time: {create: new Date().toISOString()},
        type: "add-to-cart",
        properties: {sku: "SG-1"},
        options: {},
        context: {page: {url: location.href, title: document.title,
                         referer: {host: null, query: null}}}
      }]
    };
    var blob = new Blob([JSON.stringify(payload)], {type: "application/json"});
    return navigator.sendBeacon(api + "/track", blob);
  };
  window.postWithHeaders = function (api, sourceId) {
    return fetch(api + "/track", {
      method: "POST",
      credentials: "include",
      headers: {"Content-Type": "application/json", "x-timestamp": "1764756000",
                "x-context": "staging", "authorization": "Bearer site-token"},
      body: JSON.stringify({source: {id: sourceId}, session: {id: "tracardi-session-2"},
                            events: [{type: "signed-in", properties: {}}]})
    }).then(function (response) {
      return response.json().then(function (body) {
        return {status: response.status, context: response.headers.get("x-context"),
                profile: body.profile};
      });
    });
  };
</script>"""


def test_a_tracardi_beacon_from_another_origin_is_stored(shop, shop_source):
    shop.serve_raw(
        "/cart",
        f"<!doctype html><html><head><title>Cart</title>{TRACARDI_BEACON}</head><body></body>",
    )
    page = shop.open("/cart")

    queued = page.evaluate(f"window.sendTracardiBeacon({json.dumps(shop.api_url)}, 'shop-web')")

    assert queued is True
    event = wait_until(lambda: Event.objects.filter(type="add-to-cart").first())
    assert event.properties == {"sku": "SG-1"}
    assert event.session_id == "tracardi-session-1"
    assert event.hit == {"name": "Cart", "url": f"{shop.url}/cart"}
    assert Session.objects.get(pk="tracardi-session-1").metadata["time"]["tz"] == "Europe/Warsaw"
    assert [text for text in shop.errors() if "CORS" in text] == []


def test_a_credentialed_post_with_x_context_and_authorization_is_answered(shop, shop_source):
    shop.serve_raw(
        "/account",
        f"<!doctype html><html><head><title>Account</title>{TRACARDI_BEACON}</head></html>",
    )
    page = shop.open("/account")

    answer = page.evaluate(f"window.postWithHeaders({json.dumps(shop.api_url)}, 'shop-web')")

    assert answer["status"] == 200
    assert answer["context"] == "staging"
    assert answer["profile"]["id"] == Profile.objects.get().id
    assert Event.objects.filter(type="signed-in").count() == 1
    assert shop.errors() == []


# ---- tracker parity: onTracardiReady helpers ---------------------------------------------

HELPERS_PAGE = """<script>
  window.onTracardiReady.bind(function (params) {
    window.__ready = {profile: params.context.profile.id, hasTracker: !!params.tracker.track};
    var helpers = params.helpers;
    helpers.onClick("#buy", function () {
      helpers.track("buy-clicked", {sku: "SG-1"}).then(function (response) {
        window.__helperAnswer = {status: response.status, profile: response.data.profile.id};
      });
    });
    var detach = helpers.addListener(document.querySelectorAll(".size"), "mouseover focus",
      function (event) { helpers.track("size-hovered", {size: event.target.dataset.size}); });
    window.__detach = detach;
  });
</script>"""
HELPERS_BODY = """
<button id="buy">Buy</button>
<button class="size" data-size="M">M</button><button class="size" data-size="L">L</button>
"""


def test_on_tracardi_ready_gets_tracardis_helpers(shop, shop_source):
    shop.serve("/glasses", head=HELPERS_PAGE, body=HELPERS_BODY, auto={"events": [["page-view"]]})
    page = shop.open("/glasses")
    [first] = shop.wait_responses(1)
    page.wait_for_function("window.__ready !== undefined")
    profile_id = first["body"]["profile"]["id"]
    assert page.evaluate("window.__ready") == {"profile": profile_id, "hasTracker": True}

    page.click("#buy")
    page.wait_for_function("window.__helperAnswer !== undefined")
    page.hover("[data-size=M]")
    wait_until(lambda: Event.objects.filter(type="size-hovered").exists())
    page.evaluate("window.__detach()")
    page.hover("[data-size=L]")
    page.hover("#buy")

    assert page.evaluate("window.__helperAnswer") == {"status": 200, "profile": profile_id}
    assert Event.objects.get(type="buy-clicked").properties == {"sku": "SG-1"}
    page.wait_for_timeout(300)  # room for a second size-hovered event, which must not come
    sizes = list(Event.objects.filter(type="size-hovered").values_list("properties", flat=True))
    assert sizes == [{"size": "M"}]
    assert shop.errors() == []


# ---- tracker parity: context.storage, context.cookies, context.location -----------------

CONTEXT_PAGE = """<script>
  localStorage.setItem("cart-items", "3");
  document.cookie = "plan=gold; path=/";
  options.tracker.context = {
    storage: true,
    cookies: true,
    location: {
      url: "GEO_URL",
      data: function (data) { return {city: data.city_name, country: {code: data.cc}}; }
    }
  };
</script>"""


def test_storage_cookies_and_location_context_as_tracardi_sends_them(shop, shop_source):
    shop.server.pages["/geo.json"] = json.dumps({"city_name": "Kraków", "cc": "PL"})
    shop.serve(
        "/glasses",
        head=CONTEXT_PAGE.replace("GEO_URL", f"{shop.url}/geo.json"),
        auto={"events": [["page-view"]]},
    )
    shop.open("/glasses")
    [answer] = shop.wait_responses(1)

    sent = shop.track_posts[0]["context"]
    assert sent["storage"]["local"]["cart-items"] == "3"
    assert "plan=gold" in sent["storage"]["cookies"]["cookies1"]
    assert sent["location"] == {"city": "Kraków", "country": {"code": "PL"}}
    session = Session.objects.get(pk=answer["body"]["session"]["id"])
    assert session.context["location"] == {"city": "Kraków", "country": {"code": "PL"}}
    assert session.context["storage"]["local"]["cart-items"] == "3"


# ---- item 3 and trackExternalLinks: one person across a company's two domains -----------


@pytest.fixture
def second_site():
    """The company's other domain: `localhost` instead of 127.0.0.1 (another host, so other
    cookies and another localStorage), with its own event source."""
    server = ShopServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_visitor_following_a_link_to_the_companys_other_domain_stays_one_person(
    shop, shop_source, second_site
):
    event_source_create(name="Second shop", source_id="second-shop")
    other_url = f"http://localhost:{second_site.server_address[1]}"
    # Site B: the same snippet with its own source.
    shop.serve("/welcome", source_id="second-shop", auto={"events": [["page-view"]]})
    second_site.pages["/welcome"] = shop.server.pages.pop("/welcome")
    shop.serve(
        "/glasses",
        auto={"events": [["page-view"]]},
        tracker_settings={"trackExternalLinks": ["localhost"]},
        body=f'<a id="away" href="{other_url}/welcome?from=a#top">Our other shop</a>'
        '<a id="elsewhere" href="https://example.org/x">Elsewhere</a>',
    )
    page = shop.open("/glasses")
    [on_a] = shop.wait_responses(1)
    person = on_a["body"]["profile"]["id"]

    page.dispatch_event("#elsewhere", "contextmenu")
    assert page.get_attribute("#elsewhere", "href") == "https://example.org/x"
    page.click("#away")
    page.wait_for_url(f"{other_url}/welcome**")
    [on_b] = shop.wait_responses(1)

    assert page.url == (f"{other_url}/welcome?from=a&__tr_pid={person}&__tr_src={SOURCE_ID}#top")
    assert shop.track_posts[-1]["context"]["tracardi"] == {
        "pass": {"profile": person, "source": SOURCE_ID}
    }
    assert on_b["body"]["profile"]["id"] == person
    assert on_b["body"]["warnings"] == []
    assert page.evaluate("localStorage.getItem('tracardi-profile-id')") == person
    assert list(Profile.objects.values_list("id", flat=True)) == [person]
    assert Session.objects.count() == 2
    assert set(Session.objects.values_list("profile_id", flat=True)) == {person}
    assert MergeRecord.objects.count() == 0


def test_a_forged_hand_off_link_does_not_take_over_anyone(shop, shop_source):
    # A profile whose id a client chose (a CRM number): it resolves for trusted sources only.
    victim = profile_new(profile_id="victim-static", now=timezone.now())
    victim.static_ids = [victim.id]
    victim.save()
    shop.serve("/glasses", auto={"events": [["page-view"]]})

    shop.open(f"/glasses?__tr_pid={victim.id}&__tr_src={SOURCE_ID}")
    [answer] = shop.wait_responses(1)

    assert answer["body"]["profile"]["id"] != victim.id
    assert answer["body"]["warnings"] == [
        f"context.tracardi.pass: the referred profile {victim.id} was ignored: no such profile."
    ]
    assert Profile.objects.count() == 2
