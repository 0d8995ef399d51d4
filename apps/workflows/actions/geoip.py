"""GeoIP: where an IP address is, from the MaxMind database of CDP_GEOIP_DATABASE
(apps.profiles.geo), as Tracardi's GeoIP plugin answers (its Geo object)."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.profiles.geo import GeoLookupError, ip_locate
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    lookup,
    optional_target,
    readable_reference,
)

# Tracardi's "Add location to profile" writes here (profile.data.devices.last.geo).
PROFILE_GEO_PATH = "profile@data.devices.last.geo"


def _error(message: str) -> Result:
    return Result("error", {"message": message})


class GeoIpAction(Action):
    id = "geoip"
    name = "GeoIP"
    group = "Location"
    description = "Where an IP address is: country, city, county, postal code and coordinates."
    docs = (
        "`ip`: a dot path to the address (`event@metadata.ip`, the client's IP as /track saw "
        "it; `event@request.headers.x-forwarded-for`, whose first address is taken), a "
        "template (`{{payload@ip}}`) or an address. Looked up in the MaxMind database the "
        "operator named in CDP_GEOIP_DATABASE (City or Country; a Country database gives only "
        'the country). Found: `{"country": {"name", "code"}, "city", "county", "postal", '
        '"latitude", "longitude", "location": [longitude, latitude]}` goes to `found` (and to '
        "`target`, when set; with `add_to_profile`, to profile@data.devices.last.geo too). An "
        "address the database does not know (private and reserved ones among them): the "
        "payload goes to `not-found`. No address, one that is not an IP, or no usable "
        'database: `error` with `{"message": ...}`.'
    )
    outputs = ("found", "not-found", "error")
    config_schema = {
        "type": "object",
        "required": ["ip"],
        "properties": {
            "ip": {
                "type": "string",
                "minLength": 1,
                "default": "event@metadata.ip",
                "title": "IP address",
                "description": "A dot path to the IP (event@metadata.ip), a template "
                "({{payload@ip}}) or an address itself.",
                "x-notation": "value",
            },
            "target": TARGET_PROPERTY,
            "add_to_profile": {
                "type": "boolean",
                "default": False,
                "title": "Add location to profile",
                "description": "Also write it to the profile's last device location "
                "(data.devices.last.geo).",
            },
        },
    }

    def setup(self) -> None:
        ip = self.config["ip"]
        if not ip.strip():
            raise ConfigError("ip: write a dot path to the IP, e.g. event@metadata.ip")
        if "{{" not in ip:
            readable_reference(ip, field="ip")
        optional_target(self.config)

    def _address(self, payload: Any, flow) -> Any:
        ip = self.config["ip"]
        if "{{" in ip:
            return notation.render_string(ip, flow.data(payload), default="")
        return lookup(ip, flow.data(payload))

    def run(self, payload: Any, flow) -> Result:
        address = self._address(payload, flow)
        if address is notation.MISSING or address in (None, ""):
            return _error(f"there is no IP address at {self.config['ip']}")
        if isinstance(address, str):
            # X-Forwarded-For: "client, proxy1, proxy2"
            address = address.split(",")[0].strip()
        try:
            geo = ip_locate(address)
        except GeoLookupError as exc:
            return _error(str(exc))
        if geo is None:
            return Result("not-found", payload)
        targets = [self.config["target"]] if self.config.get("target") else []
        if self.config.get("add_to_profile"):
            flow.require_profile(self.name)
            targets.append(PROFILE_GEO_PATH)
        if targets:
            data = flow.writable_data(payload, targets)
            for target in targets:
                flow.assign(target, dict(geo), data)
        return Result("found", geo)
