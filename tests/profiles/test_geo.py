"""Issue 23 item 5: IP geolocation from a MaxMind database the test writes (mmdb-writer) and
the CDP reads with MaxMind's reader; a missing, corrupt or unsuitable file turns it off with
one warning."""

import logging

import pytest

from apps.profiles import geo
from tests.support.geoip import (
    BERLIN_GEO,
    BERLIN_IPV6,
    COUNTRY_ONLY_GEO,
    COUNTRY_ONLY_IP,
    LONDON_GEO,
    LONDON_IP,
    asn_database,
    city_database,
    country_database,
)


@pytest.fixture
def city(tmp_path, settings):
    settings.CDP_GEOIP_DATABASE = str(city_database(tmp_path / "GeoLite2-City.mmdb"))
    return settings.CDP_GEOIP_DATABASE


def test_a_city_database_gives_tracardis_geo_fields(city):
    assert geo.ip_locate(LONDON_IP) == LONDON_GEO
    assert geo.ip_locate(" 81.2.69.1 ") == LONDON_GEO
    assert geo.ip_locate(COUNTRY_ONLY_IP) == COUNTRY_ONLY_GEO
    assert geo.geo_database().enabled is True
    assert geo.geo_warning() == ""


def test_ipv6_and_ipv4_mapped_addresses(city):
    assert geo.ip_locate(BERLIN_IPV6) == BERLIN_GEO
    assert geo.ip_locate("::ffff:81.2.69.160") == LONDON_GEO


def test_a_country_database_fills_only_the_country(tmp_path, settings):
    settings.CDP_GEOIP_DATABASE = str(country_database(tmp_path / "GeoLite2-Country.mmdb"))

    assert geo.ip_locate(LONDON_IP) == {
        "country": {"name": "United Kingdom", "code": "GB"},
        "city": None,
        "county": None,
        "postal": None,
        "latitude": None,
        "longitude": None,
        "location": None,
    }
    assert geo.ip_locate(BERLIN_IPV6)["country"] == {"name": "Germany", "code": "DE"}


@pytest.mark.parametrize(
    "ip", ["10.1.2.3", "192.168.0.7", "127.0.0.1", "::1", "fd00::5", "8.8.8.8"]
)
def test_private_reserved_and_unknown_addresses_are_not_found(city, ip):
    assert geo.ip_locate(ip) is None
    assert geo.session_geo(ip) is None


@pytest.mark.parametrize("ip", ["not-an-ip", "81.2.69", "", "1.2.3.4.5"])
def test_what_is_not_an_ip_is_a_lookup_error_and_no_session_geo(city, ip):
    with pytest.raises(geo.GeoLookupError, match="is not an IP address"):
        geo.ip_locate(ip)
    assert geo.session_geo(ip) is None


def test_not_configured_is_off_without_a_warning(settings):
    settings.CDP_GEOIP_DATABASE = ""

    assert geo.geo_database().enabled is False
    assert geo.geo_warning() == ""
    assert geo.session_geo(LONDON_IP) is None
    with pytest.raises(geo.GeoLookupError, match="^GeoIP is off: CDP_GEOIP_DATABASE is not set$"):
        geo.ip_locate(LONDON_IP)


def _bad_files(tmp_path):
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(b"\x00\x01this is not a maxmind database" * 100)
    truncated = tmp_path / "truncated.mmdb"
    city_database(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    empty = tmp_path / "empty.mmdb"
    empty.write_bytes(b"")
    return {
        "missing": (tmp_path / "nowhere" / "GeoLite2-City.mmdb", "the file does not exist"),
        "corrupt": (corrupt, "it is not a readable MaxMind database ("),
        "truncated": (truncated, "it is not a readable MaxMind database ("),
        "empty": (empty, "it is not a readable MaxMind database ("),
        "directory": (tmp_path, "it is not a readable MaxMind database ("),
        "asn": (asn_database(tmp_path / "asn.mmdb"), "it is a 'GeoLite2-ASN' database"),
    }


@pytest.mark.parametrize("kind", ["missing", "corrupt", "truncated", "empty", "directory", "asn"])
def test_an_unusable_file_is_one_warning_and_the_feature_off(tmp_path, settings, caplog, kind):
    path, reason = _bad_files(tmp_path)[kind]
    settings.CDP_GEOIP_DATABASE = str(path)

    with caplog.at_level(logging.WARNING, logger="apps.profiles.geo"):
        for _ in range(3):
            assert geo.session_geo(LONDON_IP) is None
            assert geo.geo_database().enabled is False
        warning = geo.geo_warning()

    expected_start = f"GeoIP is off: CDP_GEOIP_DATABASE={path} cannot be used, {reason}"
    assert warning.startswith(expected_start)
    assert warning.endswith(
        ". Put a GeoLite2 City or Country .mmdb file there (or clear the setting) and restart."
    )
    assert [record.getMessage() for record in caplog.records] == [warning]
    with pytest.raises(geo.GeoLookupError) as raised:
        geo.ip_locate(LONDON_IP)
    assert str(raised.value) == warning


def test_the_database_is_opened_once_per_process_memory_mapped(city):
    first = geo.geo_database()
    geo.ip_locate(LONDON_IP)

    assert geo.geo_database() is first
    assert first.reader.metadata().database_type == "GeoLite2-City"
    # MODE_MMAP_EXT: MaxMind's C reader over a memory map, shared by forked workers.
    assert type(first.reader).__module__ == "maxminddb.extension"
