"""Synthetic boundaries for Riverton (a made-up city near longitude -1.89, latitude 52.48)."""

from __future__ import annotations

import json
from typing import Any

from incity.places.services import import_boundaries
from tests.personas import SYSTEM, Cast


def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def feature(name: str, rings: Any, kind: str = "Polygon", **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"name": name, **properties},
        "geometry": {"type": kind, "coordinates": rings},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# Two neighbourhoods side by side; the test forms' mark at (-1.89, 52.48) lies in North.
NORTH = feature("Riverton North", square(-1.92, 52.475, -1.88, 52.50), code="RN")
SOUTH = feature("Riverton South", square(-1.92, 52.45, -1.88, 52.475), code="RS")
RIVERTON = collection(NORTH, SOUTH)


def as_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def riverton_areas(cast: Cast) -> None:
    """Give the personas' project the two synthetic neighbourhoods."""
    import_boundaries(
        acting_user=None,
        origin=SYSTEM,
        data=as_bytes(RIVERTON),
        filename="riverton.geojson",
        project_slug=cast.survey.slug,
        code_field="code",
    )
