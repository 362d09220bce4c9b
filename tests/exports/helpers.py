"""A published household form with three synthetic submissions, shared by the export tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incity.accounts.audit import Origin
from incity.surveys.models import Form, Submission
from incity.surveys.services import forms as form_services
from incity.surveys.services.submissions import SubmissionInput, SubmitResult, submit
from tests.personas import Cast
from tests.surveys.forms import (
    CONSENT_SHEET,
    EN,
    HOUSEHOLD_FORM,
    household_definition,
    published_form,
    stored,
)

SYSTEM = Origin.cli()


@dataclass
class Exportable:
    form: Form
    submission_ids: list[int]


def exportable(cast: Cast) -> Exportable:
    form = published_form(cast)
    first = stored(form, cast.fieldworker)
    second = stored(
        form,
        cast.fieldworker,
        age=70,
        tenure="owner",
        rent=None,
        barriers=[],
        born_here="yes",
        household=[],
        places=[],
        comment="=1+1 is text, not a formula",
    )
    third = stored(form, cast.fieldworker, age=22, tenure="social_rent", rent=300)
    ids = [result.submission.pk for result in (first, second, third) if result.submission]
    assert len(ids) == 3
    return Exportable(form=form, submission_ids=ids)


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def csv_values(path: Path) -> list[list[object]]:
    """A CSV file's rows as values: a cell that reads as a number is that number (the
    store's CSV may write 12.0 as 12), any other cell stays text."""
    import csv

    def value(cell: str) -> object:
        try:
            return float(cell)
        except ValueError:
            return cell

    with path.open(newline="", encoding="utf-8") as handle:
        return [[value(cell) for cell in row] for row in csv.reader(handle)]


def flat_form(cast: Cast) -> Form:
    """The household form without its repeat and map marks: one table, the columnar path."""
    children = [
        child
        for child in HOUSEHOLD_FORM["children"]
        if child["type"] not in ("repeat", "map_marks")
    ]
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=household_definition(form_id="flat", children=children),
        consent_required=True,
        consent_sheet=CONSENT_SHEET,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


def submit_flat(form: Form, cast: Cast, **answers: Any) -> int:
    """Store a submission of the flat form through the service; its id."""
    result = submitted_flat(form, cast, **answers)
    assert result.submission is not None
    return int(result.submission.pk)


def submitted_flat(form: Form, cast: Cast, **answers: Any) -> SubmitResult:
    base: dict[str, Any] = {
        "age": 34,
        "tenure": "private_rent",
        "rent": 640.5,
        "barriers": ["no_time", "childcare"],
        "born_here": "no",
        "comment": "synthetic",
    }
    base.update(answers)
    result = submit(
        acting_user=cast.fieldworker,
        origin=SYSTEM,
        form_pk=form.pk,
        item=SubmissionInput(
            instance_id=f"uuid:flat-{len(base)}-{Submission.objects.count()}",
            answers={key: value for key, value in base.items() if value is not None},
            language=EN,
            consent_accepted=True,
        ),
    )
    assert result.submission is not None
    return result
