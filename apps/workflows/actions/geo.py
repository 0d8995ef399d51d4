"""Location: the distance between two points, and whether a point is inside a circle.

Distances are geodesic (on the WGS-84 ellipsoid, geopy's `geodesic`, as Tracardi's
geo.distance and geo.fence.circular plugins compute them), in kilometres.
"""

from __future__ import annotations

import contextlib
from typing import Any

from geopy.distance import geodesic

from apps import notation
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result, readable_reference


def _point_schema(title: str, description: str) -> dict:
    coordinate = {"type": ["number", "string"], "x-notation": "value"}
    return {
        "type": "object",
        "required": ["lat", "lng"],
        "title": title,
        "description": description,
        "properties": {
            "lat": coordinate
            | {"title": "Latitude", "description": "A number, or a dot path to one."},
            "lng": coordinate
            | {"title": "Longitude", "description": "A number, or a dot path to one."},
        },
    }


def _check_point(config: dict, key: str) -> None:
    for part in ("lat", "lng"):
        readable_reference(config[key][part], field=f"{key}.{part}")


def _point(action: Action, key: str, payload: Any, flow) -> tuple[float, float]:
    point = []
    for part, limit in (("lat", 90), ("lng", 180)):
        reference = action.config[key][part]
        try:
            value = notation.cast_value(flow.read(reference, payload))
        except notation.MissingReferenceError as exc:
            raise ActionError(f"{key}.{part}: {reference} is missing") from exc
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
            raise ActionError(
                f"{key}.{part} must be a number between -{limit} and {limit}, got {value!r:.40}"
            )
        point.append(float(value))
    return point[0], point[1]


class GeoDistanceAction(Action):
    id = "geo_distance"
    name = "Geo distance"
    group = "Location"
    description = "The distance in kilometres between two points."
    docs = (
        "`start_coordinate` and `end_coordinate`: each a latitude (`lat`) and longitude "
        "(`lng`), numbers or dot paths such as `event@context.location.latitude`. Output: "
        '`{"distance": <km>}` along the earth\'s surface (Warsaw to Berlin: about 519).'
    )
    config_schema = {
        "type": "object",
        "required": ["start_coordinate", "end_coordinate"],
        "properties": {
            "start_coordinate": _point_schema("From", "The first point."),
            "end_coordinate": _point_schema("To", "The second point."),
        },
    }

    def setup(self) -> None:
        _check_point(self.config, "start_coordinate")
        _check_point(self.config, "end_coordinate")

    def run(self, payload: Any, flow) -> Result:
        start = _point(self, "start_coordinate", payload, flow)
        end = _point(self, "end_coordinate", payload, flow)
        return Result("payload", {"distance": geodesic(start, end).km})


class CircularGeoFenceAction(Action):
    id = "geo_fence"
    name = "Geo fence"
    group = "Location"
    description = "Whether a point lies within a radius (km) of a centre."
    docs = (
        "`center_coordinate`: the centre (latitude `lat`, longitude `lng`); `test_coordinate`: "
        "the point to test, e.g. `event@context.location.latitude` / `.longitude`; `radius`: in "
        'kilometres. Output: `{"inside": true|false}` (on the edge counts as inside); follow '
        "it with an If on `payload@inside == true` to route."
    )
    config_schema = {
        "type": "object",
        "required": ["center_coordinate", "test_coordinate", "radius"],
        "properties": {
            "center_coordinate": _point_schema("Centre", "The centre of the circle."),
            "test_coordinate": _point_schema("Point", "The point to test."),
            "radius": {
                "type": "number",
                "exclusiveMinimum": 0,
                "title": "Radius (km)",
                "description": "How far from the centre still counts as inside.",
            },
        },
    }

    def setup(self) -> None:
        _check_point(self.config, "center_coordinate")
        _check_point(self.config, "test_coordinate")
        if isinstance(self.config["radius"], bool):
            raise ConfigError("radius: write a number of kilometres")

    def run(self, payload: Any, flow) -> Result:
        centre = _point(self, "center_coordinate", payload, flow)
        point = _point(self, "test_coordinate", payload, flow)
        inside = geodesic(centre, point).km <= self.config["radius"]
        return Result("payload", {"inside": inside})
