"""The case sites, their synthetic neighbourhood boundaries and points inside them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from incity.demo.surveys.form import DE, EN, SV
from incity.errors import Conflict
from incity.places.models import Area


@dataclass(frozen=True)
class Site:
    """A case site: its organisation, interview languages and invented places."""

    slug: str
    # Probability of each interview language (the country's own language most common).
    languages: dict[str, float]
    # Where the synthetic boundary is drawn when the area has none (lon, lat).
    centre: tuple[float, float]
    # Share of respondents born in another country (synthetic, not a statistic).
    born_abroad: float
    # Languages spoken at home by people born abroad, for the free-text answers.
    home_languages: tuple[str, ...]
    # Names of the invented dark spots, in the order they are placed.
    dark_spots: tuple[str, ...]


SITES: tuple[Site, ...] = (
    Site(
        "birmingham",
        {EN: 0.9, DE: 0.04, SV: 0.06},
        (-1.8735, 52.4725),
        0.45,
        ("urdu", "punjabi", "arabic", "somali", "polish", "romanian"),
        ("underpass", "car_park", "canal_path"),
    ),
    Site(
        "bochum",
        {DE: 0.78, EN: 0.19, SV: 0.03},
        (7.2285, 51.4745),
        0.4,
        ("turkish", "arabic", "polish", "russian", "kurdish", "ukrainian"),
        ("underpass", "station_back"),
    ),
    Site(
        "gothenburg",
        {SV: 0.72, EN: 0.25, DE: 0.03},
        (11.9445, 57.7225),
        0.5,
        ("arabic", "somali", "persian", "bosnian", "tigrinya", "finnish"),
        ("car_park", "canal_path", "station_back"),
    ),
)

Ring = list[list[float]]
Geometry = dict[str, Any]
_METRES_PER_DEGREE = 111_320.0


def synthetic_boundary(site: Site, radius_m: float = 900.0) -> Geometry:
    """An irregular invented polygon of about `radius_m` around the site's centre."""
    shape = random.Random(f"incity-demo-boundary-{site.slug}")  # noqa: S311 (synthetic data)
    lon0, lat0 = site.centre
    ring: Ring = []
    corners = 14
    for index in range(corners):
        angle = 2 * math.pi * index / corners
        radius = radius_m * shape.uniform(0.7, 1.15)
        ring.append(
            [
                round(lon0 + radius * math.cos(angle) / _lon_metres(lat0), 6),
                round(lat0 + radius * math.sin(angle) / _METRES_PER_DEGREE, 6),
            ]
        )
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}


def _lon_metres(lat: float) -> float:
    return _METRES_PER_DEGREE * math.cos(math.radians(lat))


def _polygons(boundary: Geometry) -> list[list[Ring]]:
    if boundary.get("type") == "Feature":
        return _polygons(boundary["geometry"])
    if boundary.get("type") == "Polygon":
        return [boundary["coordinates"]]
    if boundary.get("type") == "MultiPolygon":
        return list(boundary["coordinates"])
    raise ValueError(
        f"A boundary must be a GeoJSON Polygon or MultiPolygon, not {boundary.get('type')}."
    )


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: does a ray east from the point cross the ring an odd number of times?"""
    inside = False
    previous = ring[-1]
    for current in ring:
        x1, y1 = previous[0], previous[1]
        x2, y2 = current[0], current[1]
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
        previous = current
    return inside


def contains(boundary: Geometry, lon: float, lat: float) -> bool:
    """Whether the point lies inside the (multi)polygon, outside its holes."""
    return any(
        _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
        for rings in _polygons(boundary)
        if rings
    )


def _bounds(boundary: Geometry) -> tuple[float, float, float, float]:
    points = [point for rings in _polygons(boundary) for point in rings[0]]
    lons = [point[0] for point in points]
    lats = [point[1] for point in points]
    return min(lons), min(lats), max(lons), max(lats)


def random_point_in(boundary: Geometry, rng: random.Random) -> tuple[float, float]:
    """A uniformly random point inside the boundary (rejection from its bounding box)."""
    west, south, east, north = _bounds(boundary)
    for _ in range(10_000):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if contains(boundary, lon, lat):
            return round(lon, 6), round(lat, 6)
    raise ValueError("Could not place a point inside the boundary; is it a proper polygon?")


def point_near(
    boundary: Geometry, rng: random.Random, centre: tuple[float, float], spread_m: float
) -> tuple[float, float]:
    """A point scattered around `centre` (normal, `spread_m` metres), kept inside the boundary."""
    lon0, lat0 = centre
    for _ in range(200):
        lon = round(lon0 + rng.gauss(0, spread_m) / _lon_metres(lat0), 6)
        lat = round(lat0 + rng.gauss(0, spread_m) / _METRES_PER_DEGREE, 6)
        if contains(boundary, lon, lat):
            return lon, lat
    return random_point_in(boundary, rng)


def mark_points(answers: dict[str, Any], name: str = "saf_places") -> list[tuple[float, float]]:
    """The (lon, lat) of every point map mark in a submission's answers."""
    points: list[tuple[float, float]] = []
    for mark in answers.get(name) or []:
        geometry = mark.get("geometry") if isinstance(mark, dict) else None
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            lon, lat = geometry["coordinates"][:2]
            points.append((float(lon), float(lat)))
    return points


@dataclass
class Place:
    """One case site: its neighbourhood boundary and the invented spots in it."""

    site: Site
    boundary: Geometry
    dark_spots: list[tuple[str, tuple[float, float]]]
    good_spots: list[tuple[str, tuple[float, float]]]


def invent_spots(site: Site, boundary: Geometry, rng: random.Random) -> Place:
    dark = [(name, random_point_in(boundary, rng)) for name in site.dark_spots]
    good = [
        (name, random_point_in(boundary, rng)) for name in ("library", "park", "community_centre")
    ]
    return Place(site, boundary, dark, good)


def place_of(site: Site, rng: random.Random) -> Place:
    area = (
        Area.objects.filter(organisation__slug=site.slug, is_synthetic=True).order_by("pk").first()
    )
    if area is None:
        raise Conflict(f"The demo network has no synthetic area for '{site.slug}'; load it first.")
    if not area.boundary:
        # The demo network's areas carry no boundary of their own: draw an invented one.
        area.boundary = synthetic_boundary(site)
        area.save(update_fields=["boundary"])
    return invent_spots(site, area.boundary, rng)
