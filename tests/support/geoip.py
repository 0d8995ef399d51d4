"""Small MaxMind-format databases written by the tests (mmdb-writer) and read by the CDP with
MaxMind's own reader, in the record shapes of GeoLite2 City and GeoLite2 Country."""

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

LONDON_NETWORK = "81.2.69.0/24"
LONDON_IP = "81.2.69.160"  # MaxMind's own test address for London
BERLIN_IPV6_NETWORK = "2a02:8108::/32"
BERLIN_IPV6 = "2a02:8108:1:2::3"
COUNTRY_ONLY_IP = "89.160.20.112"  # a Swedish address with no city in the City database

LONDON = {
    "city": {"geoname_id": 2643743, "names": {"en": "London", "de": "London"}},
    "continent": {"code": "EU", "names": {"en": "Europe"}},
    "country": {
        "iso_code": "GB",
        "names": {"en": "United Kingdom", "de": "Vereinigtes Königreich"},
    },
    "location": {"accuracy_radius": 10, "latitude": 51.5142, "longitude": -0.0931},
    "postal": {"code": "EC2V"},
    "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
}
BERLIN = {
    "city": {"names": {"en": "Berlin"}},
    "country": {"iso_code": "DE", "names": {"en": "Germany"}},
    "location": {"latitude": 52.5244, "longitude": 13.4105},
    "postal": {"code": "10178"},
    "subdivisions": [
        {"iso_code": "BE", "names": {"en": "Land Berlin"}},
        {"iso_code": "BE-MI", "names": {"en": "Mitte"}},
    ],
}
SWEDEN = {"country": {"iso_code": "SE", "names": {"en": "Sweden"}}}

LONDON_GEO = {
    "country": {"name": "United Kingdom", "code": "GB"},
    "city": "London",
    "county": "England",
    "postal": "EC2V",
    "latitude": 51.5142,
    "longitude": -0.0931,
    "location": [-0.0931, 51.5142],
}
BERLIN_GEO = {
    "country": {"name": "Germany", "code": "DE"},
    "city": "Berlin",
    "county": "Mitte",
    "postal": "10178",
    "latitude": 52.5244,
    "longitude": 13.4105,
    "location": [13.4105, 52.5244],
}
COUNTRY_ONLY_GEO = {
    "country": {"name": "Sweden", "code": "SE"},
    "city": None,
    "county": None,
    "postal": None,
    "latitude": None,
    "longitude": None,
    "location": None,
}


def _write(path: Path, database_type: str, networks: dict[str, dict]) -> Path:
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en", "de"],
        description="CDP test database",
    )
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def city_database(path: Path) -> Path:
    """A GeoLite2-City shaped database: London (IPv4), Berlin (IPv6), Sweden (country only)."""
    return _write(
        path,
        "GeoLite2-City",
        {LONDON_NETWORK: LONDON, BERLIN_IPV6_NETWORK: BERLIN, "89.160.20.0/24": SWEDEN},
    )


def country_database(path: Path) -> Path:
    """A GeoLite2-Country shaped database: country records only."""
    country = {key: LONDON[key] for key in ("continent", "country")}
    return _write(
        path,
        "GeoLite2-Country",
        {LONDON_NETWORK: country, BERLIN_IPV6_NETWORK: {"country": BERLIN["country"]}},
    )


def asn_database(path: Path) -> Path:
    """A database of another kind (GeoLite2-ASN): no locations in it."""
    return _write(
        path,
        "GeoLite2-ASN",
        {LONDON_NETWORK: {"autonomous_system_number": 20712}},
    )
