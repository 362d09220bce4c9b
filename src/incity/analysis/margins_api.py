"""API: a project's population margins, and weighted estimates of a form's answers."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from incity.analysis import margins_queries, margins_services
from incity.analysis.estimate_queries import EstimateRequest, form_estimates
from incity.analysis.models import PopulationMargin
from incity.api_context import api_origin, signed_in_user
from incity.errors import InvalidInput

router = Router(tags=["analysis"])
MAX_CSV_BYTES = 2 * 1024 * 1024


class MarginIn(Schema):
    variable: str
    level: str
    total: float


class MarginsIn(Schema):
    margins: list[MarginIn]
    source: str = ""
    synthetic: bool = False


class MarginOut(Schema):
    variable: str
    level: str
    total: float
    source: str
    synthetic: bool


class MarginsOut(Schema):
    project: str
    margins: list[MarginOut]
    synthetic: bool


def _listing(
    project_slug: str, margins: list[PopulationMargin], project_synthetic: bool
) -> dict[str, Any]:
    return {
        "project": project_slug,
        "margins": [
            {
                "variable": m.variable,
                "level": m.level,
                "total": m.total,
                "source": m.source,
                "synthetic": m.is_synthetic,
            }
            for m in margins
        ],
        "synthetic": project_synthetic or any(m.is_synthetic for m in margins),
    }


@router.get("/projects/{slug}/margins", response=MarginsOut)
def list_margins(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The project's population margins (needs view_project)."""
    project, margins = margins_queries.list_margins(signed_in_user(request), slug)
    return _listing(project.slug, margins, project.is_synthetic)


@router.put("/projects/{slug}/margins", response=MarginsOut)
def replace_margins(request: HttpRequest, slug: str, payload: MarginsIn) -> dict[str, Any]:
    """Replace the margins (needs edit_project). Levels must be choices of the question;
    totals positive; every variable must sum to the same population."""
    margins = margins_services.replace_margins(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        rows=[
            margins_services.MarginRow(m.variable.strip(), m.level.strip(), m.total)
            for m in payload.margins
        ],
        source=payload.source,
        is_synthetic=payload.synthetic,
    )
    project_synthetic = bool(margins and margins[0].project.is_synthetic)
    return _listing(slug, margins, project_synthetic)


@router.post("/projects/{slug}/margins/csv", response=MarginsOut)
def import_margins(
    request: HttpRequest,
    slug: str,
    file: File[UploadedFile],
    source: Form[str] = "",
    synthetic: Form[bool] = False,
) -> dict[str, Any]:
    """Replace the margins from a CSV file with the columns variable, level, total."""
    if file.size is not None and file.size > MAX_CSV_BYTES:
        raise InvalidInput("file", "The margins file is larger than 2 MB.")
    try:
        text = file.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("file", "The margins file must be UTF-8 text.") from None
    margins = margins_services.import_margins_csv(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        text=text,
        source=source,
        is_synthetic=synthetic,
    )
    project_synthetic = bool(margins and margins[0].project.is_synthetic)
    return _listing(slug, margins, project_synthetic)


class EstimateFilters(Schema):
    proportion: str | None = None
    mean: str | None = None
    by: str | None = None
    weights: Literal["rake", "poststratify", "none"] = "rake"
    scope: Literal["published", "raw"] = "published"


@router.get("/forms/{form}/estimates")
def estimates(request: HttpRequest, form: int, filters: Query[EstimateFilters]) -> dict[str, Any]:
    """Weighted estimates with SE and 95% interval, per group of `by`.

    `proportion=QUESTION=LEVEL` or `mean=QUESTION`; `weights=rake` (all the project's
    margins), `poststratify` (its one margin) or `none`. `scope=published` (default)
    hides groups the disclosure gate hides; `scope=raw` needs view_raw_data and is audited.
    """
    return form_estimates(
        signed_in_user(request),
        api_origin(request),
        form,
        EstimateRequest(
            proportion=filters.proportion,
            mean=filters.mean,
            by=filters.by,
            weights=filters.weights,
            scope=filters.scope,
        ),
    )
