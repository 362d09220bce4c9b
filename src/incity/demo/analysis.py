"""The demo's analysis: synthetic population margins so its dashboards show weighted estimates.

The demo loader calls `load_demo_analysis()` after `load_demo_surveys()`. The
margins are invented: residents aged 16 and over of the three case
neighbourhoods (one per case site), by the DiPS age band, added up for the
demo survey that spans all three, and per neighbourhood (the form's
home_neighbourhood question). They are stored through the margins service
(checked and audited like any project's) and flagged synthetic, so every page
that shows them, or an estimate weighted to them, says so.
"""

from __future__ import annotations

from django.conf import settings

from incity.accounts.audit import Origin
from incity.analysis.margins_services import MarginRow, replace_margins
from incity.analysis.models import PopulationMargin
from incity.demo.surveys import AGE_BANDS, FORM_ID, NEIGHBOURHOOD_QUESTION, PROJECT_SLUG
from incity.errors import Conflict, Forbidden
from incity.surveys.models import Form

ORIGIN = Origin(channel="demo")
VARIABLE = "bg_age"
SOURCE = (
    "Synthetic: invented residents aged 16+ of the three case neighbourhoods "
    "(Birmingham, Bochum and Gothenburg demo quarters), by age band. Not census figures."
)
# Invented neighbourhood populations by age band (16-24, 25-34, 35-44, 45-54, 55-64, 65+).
NEIGHBOURHOOD_POPULATIONS: dict[str, tuple[int, ...]] = {
    "birmingham": (2100, 2600, 2200, 1700, 1300, 1500),
    "bochum": (1300, 1800, 1600, 1700, 1600, 2300),
    "gothenburg": (1500, 2400, 2100, 1600, 1200, 1400),
}


def demo_margins() -> list[MarginRow]:
    """The invented populations by age band (the three added up) and by neighbourhood."""
    by_age = [
        MarginRow(
            variable=VARIABLE,
            level=band,
            total=float(sum(counts[index] for counts in NEIGHBOURHOOD_POPULATIONS.values())),
        )
        for index, band in enumerate(AGE_BANDS)
    ]
    # Both variables add up to the same population, so estimates can be raked to both.
    by_neighbourhood = [
        MarginRow(variable=NEIGHBOURHOOD_QUESTION, level=site, total=float(sum(counts)))
        for site, counts in NEIGHBOURHOOD_POPULATIONS.items()
    ]
    return by_age + by_neighbourhood


def load_demo_analysis() -> None:
    """Store the demo's synthetic margins (idempotent: equal margins are left as they are)."""
    if not settings.DEMO_MODE:
        raise Forbidden("The demo analysis loads only in demo mode (INCITY_DEMO_MODE=true).")
    if not Form.objects.filter(project__slug=PROJECT_SLUG, form_id=FORM_ID).exists():
        raise Conflict(f"The demo form '{FORM_ID}' is missing; load the demo surveys first.")
    wanted = {(row.variable, row.level, row.total) for row in demo_margins()}
    stored = set(
        PopulationMargin.objects.filter(project__slug=PROJECT_SLUG).values_list(
            "variable", "level", "total"
        )
    )
    if stored == wanted:
        return
    replace_margins(
        acting_user=None,
        origin=ORIGIN,
        project_slug=PROJECT_SLUG,
        rows=demo_margins(),
        source=SOURCE,
        is_synthetic=True,
    )
