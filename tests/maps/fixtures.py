"""A form with known marks in Riverton (synthetic): a cluster big enough to publish and a
few stray marks that must never be shown on their own."""

from __future__ import annotations

from typing import Any

from incity.surveys.models import Form
from tests.personas import Cast
from tests.places.geo import riverton_areas
from tests.surveys.forms import published_form, stored

CLUSTER = (-1.9000, 52.4800)  # in Riverton North
STRAY = (-1.8950, 52.4600)  # in Riverton South


def mark(lon: float, lat: float, category: str, time: str = "night") -> dict[str, Any]:
    return {
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "category": category,
        "time_of_day": time,
    }


def riverton_form(cast: Cast) -> Form:
    """12 unsafe-at-night marks at CLUSTER (tenure social_rent), 3 safe-by-day at STRAY."""
    riverton_areas(cast)
    form = published_form(cast)
    for _ in range(12):
        stored(form, cast.fieldworker, tenure="social_rent", places=[mark(*CLUSTER, "unsafe")])
    for _ in range(3):
        stored(
            form, cast.fieldworker, tenure="owner", rent=None, places=[mark(*STRAY, "safe", "day")]
        )
    return form
