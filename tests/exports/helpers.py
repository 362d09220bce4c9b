"""A published household form with three synthetic submissions, shared by the export tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incity.surveys.models import Form
from tests.personas import Cast
from tests.surveys.forms import published_form, stored


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
