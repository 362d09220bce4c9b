"""How many people answered each map question in each of the project's areas.

Read from the stored `Answer.area` (see `assignment`). `scope="published"` (roles
that may see published figures) counts people — submissions, not marks, since one
person's ten marks must not make a count look safe — and passes the areas x
questions table with its margins through `analysis.disclosure.protect_table` with
the project's threshold. `scope="raw"` (roles that may read raw data) gives the
exact people and answer counts and writes a `raw_read` audit row. Rejected
submissions are left out, as on the maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from django.db.models import Count, QuerySet

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.analysis.disclosure import TOTAL, ProtectedTable, count_table, protect_table
from incity.errors import NotFound
from incity.places.models import Area
from incity.surveys.definition import is_sensitive, walk
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus
from incity.surveys.queries import project_sensitive_names
from incity.surveys.services.typed import derive_typed_answers

Scope = Literal["published", "raw"]
MAP_QUESTION_TYPES = frozenset({"geopoint", "geotrace", "geoshape", "map_marks"})


def area_answer_counts(
    user: User, origin: Origin, slug: str, form_pk: int, scope: Scope
) -> dict[str, Any]:
    """Per area of the project, the people (and, raw, the answers) per map question."""
    action = ProjectAction.VIEW_RAW_DATA if scope == "raw" else ProjectAction.VIEW_PUBLISHED
    project = access.get_project(user, slug, action)
    form = Form.objects.filter(project=project, pk=form_pk).select_related("project").first()
    if form is None:
        raise NotFound(f"The project has no form {form_pk}.", form=form_pk)
    derive_typed_answers(form=form)
    questions = map_questions(form)
    areas = list(Area.objects.filter(projects=project).order_by("name", "pk"))
    counted = _Counts.of(form, questions)
    result: dict[str, Any] = {
        "project": project.slug,
        "form": form.pk,
        "scope": scope,
        "threshold": project.disclosure_threshold,
        "questions": questions,
        "unit": "people: submissions with at least one answer to the question in the area",
        "notes": _notes(form, scope),
    }
    if scope == "raw":
        record(
            actor=user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="places.area_answers",
            project=project,
            target=form,
        )
        return {**result, **_raw(areas, questions, counted)}
    protected = protect_table(
        count_table(
            counted.cells,
            rows=[str(area.pk) for area in areas],
            cols=questions,
            row_totals={str(area.pk): counted.by_area.get(area.pk, 0) for area in areas},
            col_totals={name: counted.by_question.get(name, 0) for name in questions},
            total=counted.total,
        ),
        threshold=project.disclosure_threshold,
    )
    return {**result, **_published(areas, questions, protected)}


def map_questions(form: Form) -> list[str]:
    """The form's map questions (any version), sensitive ones left out, in form order."""
    sensitive = project_sensitive_names(form.project)
    found: list[str] = []
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        for element, _ in walk(definition["children"]):
            name = element["name"]
            if (
                element["type"] in MAP_QUESTION_TYPES
                and not is_sensitive(element)
                and name not in sensitive
                and name not in found
            ):
                found.append(name)
    return found


class _Counts:
    """People per (area, question) with the margins, and answers per cell (raw only)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], int] = {}
        self.answers: dict[tuple[str, str], int] = {}
        self.by_area: dict[int, int] = {}
        self.by_question: dict[str, int] = {}
        self.total = 0

    @classmethod
    def of(cls, form: Form, questions: list[str]) -> _Counts:
        counts = cls()
        rows = _assigned(form, questions)
        people = Count("submission_id", distinct=True)
        for area_id, name, n, answers in rows.values_list("area_id", "name").annotate(
            people, Count("id")
        ):
            counts.cells[(str(area_id), name)] = n
            counts.answers[(str(area_id), name)] = answers
        counts.by_area = dict(rows.values_list("area_id").annotate(people))
        counts.by_question = dict(rows.values_list("name").annotate(people))
        counts.total = rows.aggregate(n=people)["n"] or 0
        return counts


def _assigned(form: Form, questions: list[str]) -> QuerySet[Answer]:
    kept = Submission.objects.filter(form=form).exclude(status=SubmissionStatus.REJECTED)
    return Answer.objects.filter(
        form=form,
        kind="geometry",
        name__in=questions,
        area__isnull=False,
        submission__in=kept.values("id"),
    ).order_by()


def _area(area: Area) -> dict[str, Any]:
    return {"id": area.pk, "name": area.name, "code": area.code, "kind": area.kind}


def _raw(areas: list[Area], questions: list[str], counted: _Counts) -> dict[str, Any]:
    rows = []
    for area in areas:
        key = str(area.pk)
        rows.append(
            {
                **_area(area),
                "questions": {
                    name: {
                        "people": counted.cells.get((key, name), 0),
                        "answers": counted.answers.get((key, name), 0),
                    }
                    for name in questions
                },
                "people": counted.by_area.get(area.pk, 0),
            }
        )
    totals = {name: {"people": counted.by_question.get(name, 0)} for name in questions}
    return {"areas": rows, "totals": totals, "people": counted.total}


def _entry(table: ProtectedTable, row: str, col: str) -> dict[str, Any]:
    entry = table.entry(row, col)
    return {"people": entry.count, "suppressed": entry.reason}


def _published(areas: list[Area], questions: list[str], table: ProtectedTable) -> dict[str, Any]:
    rows = [
        {
            **_area(area),
            "questions": {name: _entry(table, str(area.pk), name) for name in questions},
            **_renamed(_entry(table, str(area.pk), TOTAL)),
        }
        for area in areas
    ]
    totals = {name: _entry(table, TOTAL, name) for name in questions}
    return {"areas": rows, "totals": totals, **_renamed(_entry(table, TOTAL, TOTAL))}


def _renamed(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"people": entry["people"], "people_suppressed": entry["suppressed"]}


def _notes(form: Form, scope: Scope) -> list[str]:
    notes = [
        "An answer belongs to the area holding its point (a line's or shape's mean "
        "vertex); a person with answers in several areas counts once in each.",
        "Rejected submissions are left out.",
    ]
    if scope == "published":
        notes.append(
            "Counts below the threshold are hidden ('primary'), with others hidden so they "
            "cannot be worked out from the totals ('secondary')."
        )
    if form.is_synthetic or form.project.is_synthetic:
        notes.insert(0, "Synthetic data: invented answers, not a statistic about anyone.")
    return notes
