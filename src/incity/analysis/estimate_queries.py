"""Weighted estimates of a form's answers, per group, through the disclosure gate.

The data are the typed answers (`Answer`), one row per submission that was not
rejected; the weights are the project's population margins (raking or
post-stratification) or none. Published results hide every group whose count of
respondents the gate would hide; raw results need `view_raw_data` and are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.analysis.disclosure import protect_cells, protect_count
from incity.analysis.estimation import Adjustment, Target, estimate, parse_proportion
from incity.analysis.estimation.engine import EstimateReport
from incity.analysis.margins_queries import margins_of
from incity.errors import InvalidInput
from incity.surveys import queries
from incity.surveys.definition import is_sensitive, walk
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus
from incity.surveys.queries import project_sensitive_names
from incity.surveys.services.typed import derive_typed_answers

Weighting = Literal["rake", "poststratify", "none"]
Scope = Literal["published", "raw"]
NUMERIC = ("integer", "decimal", "range")
SINGLE = ("select_one", "select_one_from_file")


@dataclass(frozen=True)
class EstimateRequest:
    proportion: str | None = None
    mean: str | None = None
    by: str | None = None
    weights: Weighting = "rake"
    scope: Scope = "published"


def form_estimates(
    user: User, origin: Origin, form_pk: int, request: EstimateRequest
) -> dict[str, Any]:
    action = ProjectAction.VIEW_RAW_DATA if request.scope == "raw" else ProjectAction.VIEW_PUBLISHED
    form = queries.get_form(user, form_pk, action)
    target = _target(request)
    types, sensitive = _question_types(form)
    sensitive |= set(project_sensitive_names(form.project))
    _check_question(
        types,
        sensitive,
        target.column,
        "proportion" if target.kind == "proportion" else "mean",
        SINGLE if target.kind == "proportion" else NUMERIC,
    )
    if request.by is not None:
        _check_question(types, sensitive, request.by, "by", SINGLE)
    adjustment = _adjustment(form, request.weights)
    for margin in adjustment.margins:
        _check_question(types, sensitive, margin.variable, "weights", SINGLE)
    names = [
        target.column,
        *([request.by] if request.by else []),
        *(m.variable for m in adjustment.margins),
    ]
    frame, ids = _answers(form, names)
    if target.kind == "proportion":
        _check_level(form, target)
    report = estimate(
        frame,
        target=target,
        adjustment=adjustment,
        by=request.by,
        row_label=lambda index: f"submission {ids[index]}",
    )
    if request.scope == "raw":
        record(
            actor=user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="estimates.read",
            project=form.project,
            target=form,
            detail={"target": target.describe(), "by": request.by, "weights": request.weights},
        )
    return _output(form, report, request)


def _target(request: EstimateRequest) -> Target:
    if (request.proportion is None) == (request.mean is None):
        raise InvalidInput(
            "proportion", "Give exactly one of proportion=QUESTION=LEVEL or mean=QUESTION."
        )
    if request.proportion is not None:
        return parse_proportion(request.proportion)
    assert request.mean is not None
    return Target(kind="mean", column=request.mean.strip())


def _question_types(form: Form) -> tuple[dict[str, str], set[str]]:
    """Question types (outside repeats) over every version, and the names marked sensitive."""
    types: dict[str, str] = {}
    sensitive: set[str] = set()
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        for element, parents in walk(definition["children"]):
            if not any(parent["type"] == "repeat" for parent in parents):
                types[element["name"]] = element["type"]
            if is_sensitive(element):
                sensitive.add(element["name"])
    return types, sensitive


def _check_question(
    types: dict[str, str], sensitive: set[str], name: str, parameter: str, allowed: tuple[str, ...]
) -> None:
    if name not in types:
        raise InvalidInput(
            parameter, f"{parameter}: the form has no question '{name}'.", question=name
        )
    if name in sensitive:
        raise InvalidInput(
            parameter, f"{parameter}: '{name}' holds sensitive answers, which are never analysed."
        )
    if types[name] not in allowed:
        wanted = "a number question" if allowed == NUMERIC else "a single-choice question"
        raise InvalidInput(
            parameter,
            f"{parameter}: '{name}' is a {types[name]} question; this needs {wanted}.",
            question=name,
        )


def _check_level(form: Form, target: Target) -> None:
    choices: set[str] = set()
    for definition in form.versions.values_list("definition", flat=True):
        for element, _ in walk(definition["children"]):
            if element["name"] == target.column:
                choices.update(
                    c["name"] for c in definition["choices"].get(element.get("list_name", ""), [])
                )
    if choices and target.level not in choices:
        raise InvalidInput(
            "proportion",
            f"proportion: '{target.level}' is not a choice of '{target.column}' (choices: {', '.join(sorted(choices))}).",
        )


def _adjustment(form: Form, weights: Weighting) -> Adjustment:
    if weights == "none":
        return Adjustment.none()
    margins = margins_of(form.project)
    if not margins:
        raise InvalidInput(
            "weights", f"weights={weights}: the project has no population margins yet."
        )
    if weights == "poststratify" and len(margins) != 1:
        raise InvalidInput(
            "weights",
            f"weights=poststratify takes one margin; the project has {len(margins)} "
            f"({', '.join(m.variable for m in margins)}): use weights=rake.",
        )
    return Adjustment(method=weights, margins=tuple(margins))


def _answers(form: Form, names: list[str]) -> tuple[pl.DataFrame, list[int]]:
    """One row per submission that was not rejected, one text column per question."""
    derive_typed_answers(form=form)
    ids = list(
        Submission.objects.filter(form=form)
        .exclude(status=SubmissionStatus.REJECTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    answers = (
        Answer.objects.filter(form=form, name__in=set(names), repeat_path="", submission_id__in=ids)
        .order_by()
        .values_list("submission_id", "name", "text", "number")
    )
    columns: dict[str, dict[int, str]] = {name: {} for name in names}
    for submission, name, text, number in answers.iterator(chunk_size=50_000):
        columns[name][submission] = (
            text if text is not None else ("" if number is None else repr(number))
        )
    frame = pl.DataFrame(
        {name: [values.get(pk) for pk in ids] for name, values in columns.items()},
        schema={name: pl.String for name in columns},
    )
    return frame, ids


def _output(form: Form, report: EstimateReport, request: EstimateRequest) -> dict[str, Any]:
    threshold = form.project.disclosure_threshold
    rows = [{"group": g.group, **g.as_dict(), "suppressed": None} for g in report.groups]
    notes = []
    if form.is_synthetic or form.project.is_synthetic:
        notes.append("Synthetic data: invented answers, not a statistic about anyone.")
    if request.scope == "published":
        rows = _gated(rows, threshold, grouped=request.by is not None)
        if any(row["suppressed"] for row in rows):
            notes.append(
                f"Estimates for groups of fewer than {threshold} respondents are hidden ('primary'), "
                "with others hidden so that they cannot be worked out from the total ('secondary')."
            )
    return {
        "form": form.pk,
        "target": report.target.describe(),
        "by": request.by,
        "weights": request.weights,
        "scope": request.scope,
        "threshold": threshold,
        "estimates": rows,
        "design": report.design,
        "notes": notes,
    }


def _gated(rows: list[dict[str, Any]], threshold: int, *, grouped: bool) -> list[dict[str, Any]]:
    if not grouped:
        for row in rows:
            reason = protect_count(row["n"], threshold=threshold).reason
            if reason:
                row.update(_hidden(reason))
        return rows
    counts = {row["group"]: row["n"] for row in rows}
    protected = protect_cells(counts, threshold=threshold)
    for row in rows:
        entry = protected.entry(row["group"])
        if entry.reason:
            row.update(_hidden(entry.reason))
    return rows


def _hidden(reason: str) -> dict[str, Any]:
    return {
        "estimate": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "n": None,
        "suppressed": reason,
    }
