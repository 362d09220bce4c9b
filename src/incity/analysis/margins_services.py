"""Every write to population margins: keyword-only, atomic, checked, audited."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.analysis.margins_queries import project_choices
from incity.analysis.models import PopulationMargin
from incity.errors import InvalidInput

GRAND_TOTAL_TOLERANCE = 1e-6
CSV_COLUMNS = ("variable", "level", "total")


@dataclass(frozen=True)
class MarginRow:
    variable: str
    level: str
    total: float


def replace_margins(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    rows: Sequence[MarginRow],
    source: str = "",
    is_synthetic: bool = False,
) -> list[PopulationMargin]:
    """Replace the project's margins with `rows` (an empty list removes them all)."""
    project = _project(acting_user, project_slug)
    _check(project, rows)
    now = timezone.now()
    with transaction.atomic():
        PopulationMargin.objects.filter(project=project).delete()
        created = PopulationMargin.objects.bulk_create(
            PopulationMargin(
                project=project,
                variable=row.variable,
                level=row.level,
                total=row.total,
                source=source.strip(),
                is_synthetic=is_synthetic or project.is_synthetic,
                updated_by=acting_user,
                updated_at=now,
            )
            for row in rows
        )
        record(
            actor=acting_user,
            origin=origin,
            kind=AuditKind.WRITE,
            action="margins.replace",
            project=project,
            detail={
                "variables": sorted({row.variable for row in rows}),
                "levels": len(rows),
                "source": source.strip()[:200],
                "synthetic": is_synthetic,
            },
        )
    return created


def import_margins_csv(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    text: str,
    source: str = "",
    is_synthetic: bool = False,
) -> list[PopulationMargin]:
    """Replace the margins from CSV text with the columns variable, level, total."""
    return replace_margins(
        acting_user=acting_user,
        origin=origin,
        project_slug=project_slug,
        rows=parse_margins_csv(text),
        source=source,
        is_synthetic=is_synthetic,
    )


def parse_margins_csv(text: str) -> list[MarginRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise InvalidInput(
            "file",
            f"The margins file needs the columns variable, level, total; {missing[0]!r} is missing.",
        )
    rows: list[MarginRow] = []
    for line, raw in enumerate(reader, start=2):
        item = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        try:
            total = float(item["total"])
        except ValueError:
            raise InvalidInput(
                "total", f"Line {line}: the total {item['total']!r} is not a number.", line=line
            ) from None
        rows.append(MarginRow(variable=item["variable"], level=item["level"], total=total))
    if not rows:
        raise InvalidInput("file", "The margins file has a header but no rows.")
    return rows


def _project(user: User | None, slug: str) -> Project:
    if user is None:
        project = Project.objects.select_related("organisation").filter(slug=slug).first()
        if project is None:
            from incity.errors import NotFound

            raise NotFound(f"No project {slug!r}.", project=slug)
        return project
    return access.get_project(user, slug, ProjectAction.EDIT_PROJECT)


def _check(project: Project, rows: Sequence[MarginRow]) -> None:
    choices = project_choices(project)
    seen: set[tuple[str, str]] = set()
    sums: dict[str, float] = {}
    for row in rows:
        if row.variable not in choices:
            known = ", ".join(sorted(choices)) or "none"
            raise InvalidInput(
                "variable",
                f"{row.variable!r} is not a single-choice question of this project's forms "
                f"(choice questions: {known}).",
                variable=row.variable,
            )
        if row.level not in choices[row.variable]:
            raise InvalidInput(
                "level",
                f"{row.level!r} is not a choice of {row.variable!r} "
                f"(choices: {', '.join(choices[row.variable])}).",
                variable=row.variable,
                level=row.level,
            )
        if not math.isfinite(row.total) or row.total <= 0:
            raise InvalidInput(
                "total",
                f"The total for {row.variable}={row.level} must be positive, not {row.total:g}.",
                variable=row.variable,
                level=row.level,
            )
        if (row.variable, row.level) in seen:
            raise InvalidInput(
                "level", f"{row.variable}={row.level} is given twice.", variable=row.variable
            )
        seen.add((row.variable, row.level))
        sums[row.variable] = sums.get(row.variable, 0.0) + row.total
    _check_same_population(sums)


def _check_same_population(sums: dict[str, float]) -> None:
    if not sums:
        return
    first, expected = next(iter(sums.items()))
    for variable, total in sums.items():
        if not math.isclose(total, expected, rel_tol=GRAND_TOTAL_TOLERANCE):
            raise InvalidInput(
                "total",
                f"The margins do not describe the same population: {first!r} sums to "
                f"{expected:g} but {variable!r} sums to {total:g}.",
            )
