"""IP geolocation from a MaxMind-format database (GeoLite2 / GeoIP2, City or Country) that the
operator names in CDP_GEOIP_DATABASE. Nothing is downloaded.

The database is opened once per process (memory-mapped: forked workers share its pages)
and a missing, unreadable or unsuitable file is said once, as a warning in the log and on the
health endpoint; the feature is then off and lookups find nothing. A lookup is a few
microseconds in MaxMind's C reader, and /track does one only when it creates a session.

A location is Tracardi's Geo object (tracardi/domain/geo.py): {"country": {"name", "code"},
"city", "county", "postal", "latitude", "longitude", "location": [longitude, latitude]}, with
English names; a Country database fills only the country.
"""

import functools
import ipaddress
import logging
from dataclasses import dataclass

import maxminddb
from django.conf import settings

logger = logging.getLogger(__name__)

# Memory-mapped, read by MaxMind's C reader (3 µs a lookup, against 60 µs for the pure-Python
# reader over the same map); the pure-Python one where the wheel has no C extension.
try:
    from maxminddb import extension as _c_extension  # noqa: F401

    _MODE = maxminddb.MODE_MMAP_EXT
except ImportError:  # pragma: no cover - the wheels of the pinned version ship it
    _MODE = maxminddb.MODE_MMAP

# database_type in the file's metadata: GeoLite2-City, GeoIP2-City, GeoLite2-Country, ...
_SUITABLE_TYPES = ("City", "Country")


class GeoLookupError(Exception):
    """The lookup could not be made (the feature is off, or the IP is not an IP address)."""


@dataclass(frozen=True)
class GeoDatabase:
    path: str
    reader: maxminddb.Reader | None
    # Why the feature is off although a path is set; "" when it is on or not configured.
    warning: str = ""

    @property
    def enabled(self) -> bool:
        return self.reader is not None


@functools.cache
def _database_open(path: str) -> GeoDatabase:
    """Cached per path: a process opens (and warns about) each file once."""
    if not path:
        return GeoDatabase(path="", reader=None)
    try:
        reader = maxminddb.open_database(path, _MODE)
    except FileNotFoundError:
        return _off(path, "the file does not exist")
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        # ValueError: an empty file cannot be memory-mapped.
        return _off(path, f"it is not a readable MaxMind database ({exc})")
    kind = reader.metadata().database_type
    if not any(suitable in kind for suitable in _SUITABLE_TYPES):
        reader.close()
        return _off(path, f"it is a {kind!r} database, not a City or Country one")
    logger.info("GeoIP: locating new sessions with %s (%s)", path, kind)
    return GeoDatabase(path=path, reader=reader)


def _off(path: str, reason: str) -> GeoDatabase:
    warning = (
        f"GeoIP is off: CDP_GEOIP_DATABASE={path} cannot be used, {reason}. Put a GeoLite2 "
        "City or Country .mmdb file there (or clear the setting) and restart."
    )
    logger.warning(warning)
    return GeoDatabase(path=path, reader=None, warning=warning)


def geo_database() -> GeoDatabase:
    """The database CDP_GEOIP_DATABASE names, opened on the first call of the process."""
    return _database_open(settings.CDP_GEOIP_DATABASE)


def geo_warning() -> str:
    """Why geolocation is off although configured ("" when it is on or not configured)."""
    return geo_database().warning


def ip_locate(ip: str) -> dict | None:
    """Tracardi's geo fields of an IPv4 or IPv6 address; None when the database does not know
    it (private and reserved addresses are in no MaxMind database).

    Raises GeoLookupError when the feature is off or `ip` is not an IP address."""
    database = geo_database()
    if database.reader is None:
        raise GeoLookupError(database.warning or "GeoIP is off: CDP_GEOIP_DATABASE is not set")
    try:
        address = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    except ValueError as exc:
        raise GeoLookupError(f"{ip!r:.60} is not an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # ::ffff:a.b.c.d, how a dual-stack server sees an IPv4 client.
        address = address.ipv4_mapped
    try:
        record = database.reader.get(address)
    except ValueError as exc:  # an IPv6 address in an IPv4-only database
        raise GeoLookupError(str(exc)) from exc
    except maxminddb.InvalidDatabaseError as exc:
        raise GeoLookupError(f"the GeoIP database is corrupt: {exc}") from exc
    if not isinstance(record, dict):
        return None
    return _tracardi_geo(record)


def session_geo(ip: str | None) -> dict | None:
    """The location of a new session's IP, or None (no IP, not found, feature off): never
    raises, /track must not fail for it."""
    if not ip or not geo_database().enabled:
        return None
    try:
        return ip_locate(ip)
    except GeoLookupError:
        return None


def _tracardi_geo(record: dict) -> dict | None:
    country = record.get("country") or record.get("registered_country") or {}
    location = record.get("location") or {}
    subdivisions = record.get("subdivisions") or []
    latitude = location.get("latitude")
    longitude = location.get("longitude")
    located = latitude is not None and longitude is not None
    geo = {
        "country": {"name": _name(country), "code": country.get("iso_code")},
        "city": _name(record.get("city") or {}),
        # Tracardi's county is the most specific subdivision (geoip2's most_specific).
        "county": _name(subdivisions[-1]) if subdivisions else None,
        "postal": (record.get("postal") or {}).get("code"),
        "latitude": latitude,
        "longitude": longitude,
        "location": [longitude, latitude] if located else None,
    }
    if geo["country"]["code"] is None and geo["city"] is None and latitude is None:
        return None
    return geo


def _name(place: dict) -> str | None:
    names = place.get("names") or {}
    return names.get("en") or next(iter(names.values()), None)
