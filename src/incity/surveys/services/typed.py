"""The typed answer table: rows derived from raw submissions, written in bulk.

`Answer` rows are rebuildable: `derive_typed_answers` writes those of
submissions stored without them (a batch stores the raw record first), and
`rebuild_answers` derives a whole form again. Sensitive answers never get rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, transaction

from incity.places.assignment import assign_submissions
from incity.surveys.definition import FormDefinition
from incity.surveys.models import (
    Answer,
    Form,
    Submission,
)
from incity.surveys.queries import (
    project_sensitive_names,
)
from incity.surveys.validation import (
    PreparedForm,
    prepare,
    typed_values,
)

_TYPED_COLUMNS = (
    "submission_id",
    "form_id",
    "path",
    "name",
    "repeat_path",
    "kind",
    "text",
    "number",
    "date",
    "geometry",
    "lat",
    "lon",
)
TypedRow = tuple[Any, ...]


def typed_rows(
    submission: Submission,
    form: FormDefinition | PreparedForm,
    answers: dict[str, Any],
    skip: frozenset[str],
) -> list[TypedRow]:
    return [
        (
            submission.pk,
            submission.form_id,
            value.path,
            value.name,
            value.repeat_path,
            value.kind,
            value.text,
            value.number,
            value.date,
            json.dumps(value.geometry) if value.geometry is not None else None,
            value.lat,
            value.lon,
        )
        for value in typed_values(form, answers)
        if value.name not in skip
    ]


def insert_typed(rows: list[TypedRow]) -> None:
    """Insert typed answers with one prepared statement, then give every map answer
    among them its area (places/assignment.py).

    A batch of 1,000 submissions has some 50,000 typed values; building model
    instances for them cost more than validating the answers, so they go in as
    plain tuples (measured in bench/surveys_bench.py). Every writer of typed rows
    comes through here, so no map answer is left without its neighbourhood.
    """
    if not rows:
        return
    _write_typed(rows)
    located = sorted({row[0] for row in rows if row[_LAT] is not None})
    if located:
        assign_submissions(located)


# Where the representative latitude is in a typed row (see _TYPED_COLUMNS).
_LAT = _TYPED_COLUMNS.index("lat")


def _write_typed(rows: list[TypedRow]) -> None:
    table = connection.ops.quote_name(Answer._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _TYPED_COLUMNS)
    if connection.vendor == "postgresql":
        # COPY is PostgreSQL's bulk path: ten times faster than row inserts here.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("%s" for _ in _TYPED_COLUMNS)
    with connection.cursor() as cursor:
        # Table and column names are our own constants, quoted; values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, rows)


def derive_typed_answers(*, form: Form | None = None, chunk: int = 500) -> int:
    """Write the typed answers of submissions stored without them; returns how many.

    Readers of typed answers call this first (it does nothing when none are pending);
    `incity forms derive` runs it by hand.
    """
    pending = Submission.objects.filter(typed_pending=True)
    if form is not None:
        pending = pending.filter(form=form)
    derived = 0
    prepared: dict[int, PreparedForm] = {}
    names_by_project: dict[int, frozenset[str]] = {}
    while True:
        with transaction.atomic():
            batch = list(pending.select_related("version", "project").order_by("pk")[:chunk])
            if not batch:
                return derived
            rows: list[TypedRow] = []
            for submission in batch:
                version = submission.version
                if version.pk not in prepared:
                    prepared[version.pk] = prepare(version.definition)
                if submission.project_id not in names_by_project:
                    names_by_project[submission.project_id] = project_sensitive_names(
                        submission.project
                    )
                rows.extend(
                    typed_rows(
                        submission,
                        prepared[version.pk],
                        submission.answers,
                        names_by_project[submission.project_id],
                    )
                )
            # A concurrent deriver may have done some already: start them afresh.
            Answer.objects.filter(submission__in=batch).delete()
            insert_typed(rows)
            Submission.objects.filter(pk__in=[s.pk for s in batch]).update(typed_pending=False)
            derived += len(batch)


def rebuild_answers(*, form: Form) -> int:
    """Derive the typed answers of a form again from its raw submissions."""
    names = project_sensitive_names(form.project)
    with transaction.atomic():
        Answer.objects.filter(form=form).delete()
        rows: list[TypedRow] = []
        for submission in form.submissions.select_related("version").iterator(chunk_size=500):
            rows.extend(
                typed_rows(submission, submission.version.definition, submission.answers, names)
            )
        insert_typed(rows)
        form.submissions.filter(typed_pending=True).update(typed_pending=False)
    return len(rows)
