"""Issue 23 item 5: /track locates a new session from its first request's IP (Tracardi's
session device.geo) and the profile's last device geo follows; a returning session costs no
lookup; a missing or corrupt database is a warning, never a failed request."""

import logging

import pytest
from rest_framework.test import APIClient

from apps.profiles.models import Profile, Session
from tests.support.geoip import (
    BERLIN_GEO,
    BERLIN_IPV6,
    LONDON_GEO,
    LONDON_IP,
    city_database,
)
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db

PAGE_VIEW = [{"type": "page-view", "properties": {"url": "/"}}]


@pytest.fixture
def city(tmp_path, settings):
    settings.CDP_GEOIP_DATABASE = str(city_database(tmp_path / "GeoLite2-City.mmdb"))


def _track(api, ip, **body):
    response = api.track(payload(events=PAGE_VIEW, **body), HTTP_X_FORWARDED_FOR=ip)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_session_and_its_new_profile_get_the_ips_location(api, rest_source, city):
    body = _track(api, f"{LONDON_IP}, 10.0.0.1", session="s-geo")

    session = Session.objects.get(pk="s-geo")
    assert session.device["ip"] == LONDON_IP
    assert session.device["geo"] == LONDON_GEO
    profile = Profile.objects.get(pk=body["profile"]["id"])
    assert profile.data["devices"] == {"last": {"geo": LONDON_GEO}}


def test_a_returning_session_is_not_located_again_and_a_new_one_moves_the_profile(
    api, rest_source, city
):
    profile_id = _track(api, LONDON_IP, session="s-1")["profile"]["id"]
    Profile.objects.filter(pk=profile_id).update(
        data={"devices": {"push": ["token-1"], "last": {"geo": LONDON_GEO, "x": 1}}}
    )

    _track(api, BERLIN_IPV6, session="s-1", profile=profile_id)  # the same session, elsewhere
    same_session = Session.objects.get(pk="s-1")
    unchanged = Profile.objects.get(pk=profile_id)
    _track(api, BERLIN_IPV6, session="s-2", profile=profile_id)  # a new session (IPv6)

    assert same_session.device["geo"] == LONDON_GEO
    assert unchanged.data["devices"]["last"]["geo"] == LONDON_GEO
    assert Session.objects.get(pk="s-2").device["geo"] == BERLIN_GEO
    assert Session.objects.get(pk="s-2").device["ip"] == BERLIN_IPV6
    profile = Profile.objects.get(pk=profile_id)
    assert profile.data["devices"] == {
        "push": ["token-1"],
        "last": {"geo": BERLIN_GEO, "x": 1},
    }
    assert profile.visit_count == 2


@pytest.mark.parametrize("ip", ["10.20.30.40", "192.168.1.1", "fd12::1", "8.8.8.8", "garbage"])
def test_private_unknown_and_malformed_ips_leave_no_geo(api, rest_source, city, ip):
    body = _track(api, ip, session="s-private")

    device = Session.objects.get(pk="s-private").device
    assert "geo" not in device and "ip" not in device
    assert Profile.objects.get(pk=body["profile"]["id"]).data["devices"] == {}


def test_the_remote_address_is_used_without_a_forwarded_header(api, rest_source, city):
    response = api.track(payload(events=PAGE_VIEW, session="s-remote"), REMOTE_ADDR=LONDON_IP)

    assert response.status_code == 200
    assert Session.objects.get(pk="s-remote").device["geo"] == LONDON_GEO


def test_a_profile_only_request_locates_the_profile(api, rest_source, city):
    body = _track(api, LONDON_IP, session="s-unsaved", options={"saveSession": False})

    assert not Session.objects.filter(pk="s-unsaved").exists()
    assert Profile.objects.get(pk=body["profile"]["id"]).data["devices"]["last"]["geo"] == (
        LONDON_GEO
    )


def test_geo_is_off_when_not_configured(api, rest_source, settings):
    settings.CDP_GEOIP_DATABASE = ""

    _track(api, LONDON_IP, session="s-off")

    assert "geo" not in Session.objects.get(pk="s-off").device
    assert APIClient().get("/api/v1/health").json()["warnings"] == []


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_a_missing_or_corrupt_file_warns_once_and_track_still_answers(
    api, rest_source, settings, tmp_path, caplog, kind
):
    path = tmp_path / "GeoLite2-City.mmdb"
    if kind == "corrupt":
        path.write_bytes(b"MaxMind? no." * 50)
    settings.CDP_GEOIP_DATABASE = str(path)

    with caplog.at_level(logging.WARNING, logger="apps.profiles.geo"):
        bodies = [_track(api, LONDON_IP, session=f"s-{kind}-{n}") for n in range(3)]
    # 503 here: the test runs no worker or beat, whose heartbeats health also checks.
    health = APIClient().get("/api/v1/health").json()

    assert len({body["profile"]["id"] for body in bodies}) == 3
    assert all("geo" not in session.device for session in Session.objects.all())
    warnings = [r.getMessage() for r in caplog.records if r.name == "apps.profiles.geo"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"GeoIP is off: CDP_GEOIP_DATABASE={path} cannot be used, ")
    assert health["warnings"] == warnings
