"""Issue 23 item 5: a session located at /track and its profile's last location, as a marketer
sees them in the admin (Chromium), with screenshots (SHOTS) to look at."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.sources.services import event_source_create
from tests.support.geoip import BERLIN_IPV6, LONDON_IP, city_database
from tests.tracking.conftest import TrackClient, payload

SHOTS = Path("/tmp/shots-wt-geo")
PASSWORD = "geo-test-password"
LONDON_LINE = "London, England, EC2V, United Kingdom (GB) · 51.5142, -0.0931 · IP 81.2.69.160"
BERLIN_LINE = "Berlin, Mitte, 10178, Germany (DE) · 52.5244, 13.4105"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_session_and_profile_pages_show_the_location(browser, live_server, settings, tmp_path):
    settings.CDP_GEOIP_DATABASE = str(city_database(tmp_path / "GeoLite2-City.mmdb"))
    event_source_create(name="Web", source_id="web-source")
    api = TrackClient()
    events = [{"type": "page-view", "properties": {"url": "/"}}]
    london = api.track(payload(events=events, session="s-london"), HTTP_X_FORWARDED_FOR=LONDON_IP)
    profile_id = london.json()["profile"]["id"]
    api.track(
        payload(events=events, session="s-berlin", profile=profile_id),
        HTTP_X_FORWARDED_FOR=BERLIN_IPV6,
    )
    api.track(payload(events=events, session="s-lan"), HTTP_X_FORWARDED_FOR="192.168.1.20")
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/profiles/session/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/profiles/session/")

    places = page.locator("#result_list tbody td.field-place")
    expect(places).to_have_count(3)
    expect(places).to_have_text(["-", "Berlin, Germany", "London, United Kingdom"])
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "session-list-place.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/profiles/session/s-london/change/")
    location = page.locator(".field-location .readonly")
    expect(location).to_have_text(LONDON_LINE)
    link = location.locator("a")
    expect(link).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=51.5142&mlon=-0.0931#map=11/51.5142/-0.0931"
    )
    page.screenshot(path=str(SHOTS / "session-location.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/profiles/session/s-lan/change/")
    expect(page.locator(".field-location .readonly")).to_have_text(
        "- (not located: no GeoIP database, or an address it does not know)"
    )

    page.goto(f"{live_server.url}/admin/profiles/profile/{profile_id}/change/")
    last = page.locator(".field-last_location .readonly")
    expect(last).to_have_text(BERLIN_LINE)
    page.screenshot(path=str(SHOTS / "profile-last-location.png"), full_page=True)
    context.close()
