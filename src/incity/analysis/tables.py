"""Cross-tables of a form's typed answers, published through the disclosure gate.

`cross_table(user, origin, form_pk, request)` checks the request against the
form, counts people with the columnar engine (`query.py`) and, for
`scope="published"`, passes the counts through `disclosure.protect_table`
with the project's threshold. Filters make the table a sub-table of the same
table without them; each such wider table is protected the same way
(recursively, so the API would publish exactly that for it) and handed to the
gate as an overlap, so that subtracting the two reveals no small count.
`scope="raw"` returns the counts as they are and writes a `raw_read` audit row.

Rows and columns are single or multiple choice questions at the top level of
the form; submissions carry no neighbourhood of their own yet, so a
neighbourhood is tabulated through the form's own neighbourhood question.
A sensitive single choice (migration background, say) can be a row, a column
or a filter too: its answers are decrypted in memory for the count, audited,
and never written to the snapshot (analysis/sensitive_groups.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast

from django.core.cache import cache

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.analysis import query
from incity.analysis.disclosure import (
    TOTAL,
    CountTable,
    Key,
    Overlap,
    ProtectedTable,
    count_table,
    protect_table,
)
from incity.analysis.sensitive_groups import (
    levels_by_submission,
    may_read_sensitive,
    sensitive_names,
    sensitive_question,
)
from incity.errors import Forbidden, InvalidInput
from incity.surveys import queries
from incity.surveys.definition import FormDefinition, is_sensitive, text_in, walk
from incity.surveys.models import Form

Scope = Literal["published", "raw"]
# Each filter doubles the overlapping tables the gate checks; three keep it quick.
MAX_FILTERS = 3


@dataclass(frozen=True)
class TableRequest:
    rows: str
    cols: str | None = None
    filters: tuple[str, ...] = ()  # "question=level"
    since: date | None = None
    until: date | None = None
    scope: Scope = "published"


@dataclass
class _Questions:
    """What the form's published versions say about its questions."""

    types: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    levels: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    categorical: dict[str, query.Categorical] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)
    form: Form | None = None

    @classmethod
    def of(cls, form: Form) -> _Questions:
        found = cls(sensitive=set(sensitive_names(form)), form=form)
        for definition in form.versions.order_by("number").values_list("definition", flat=True):
            found._add(definition)
        return found

    def _add(self, definition: FormDefinition) -> None:
        language = definition["default_language"]
        for element, _parents in walk(definition["children"]):
            name = element["name"]
            self.types[name] = element["type"]
            if is_sensitive(element):
                self.sensitive.add(name)
            self.labels[name] = text_in(element.get("label"), language, name)
            choices = definition["choices"].get(element.get("list_name", ""), [])
            known = dict(self.levels.get(name, []))
            for choice in choices:
                known[choice["name"]] = text_in(choice["label"], language, choice["name"])
            self.levels[name] = list(known.items())
        self.categorical.update(query.categorical_questions(definition))

    def question(self, name: str, parameter: str) -> query.Categorical:
        if name not in self.types:
            raise InvalidInput(
                parameter, f"{parameter}: the form has no question '{name}'.", question=name
            )
        if name in self.sensitive:
            # Only a sensitive select_one outside repeats; refused naming why otherwise.
            assert self.form is not None
            try:
                sensitive_question(self.form, name, field=parameter)
            except InvalidInput as refused:
                raise InvalidInput(
                    parameter, f"{parameter}: {refused.message}", question=name
                ) from None
            return query.Categorical(name, False, sensitive=True)
        if name not in self.categorical:
            kind = self.types[name]
            raise InvalidInput(
                parameter,
                f"{parameter}: '{name}' is a {kind} question; tables need a single or multiple "
                "choice question outside a repeat.",
                question=name,
                type=kind,
            )
        return self.categorical[name]

    def level(self, name: str, level: str, parameter: str) -> str:
        names = [choice for choice, _ in self.levels.get(name, [])]
        from_file = self.types[name].endswith("_from_file")
        if level not in names and not from_file:
            raise InvalidInput(
                parameter,
                f"{parameter}: '{level}' is not a choice of '{name}' "
                f"(choices: {', '.join(names)}).",
                question=name,
                level=level,
            )
        return level


def cross_table(user: User, origin: Origin, form_pk: int, request: TableRequest) -> dict[str, Any]:
    """The table for the API: published through the gate, or raw (audited)."""
    action = ProjectAction.VIEW_RAW_DATA if request.scope == "raw" else ProjectAction.VIEW_PUBLISHED
    form = queries.get_form(user, form_pk, action)
    questions = _Questions.of(form)
    table_query = _parse(request, questions)
    secret_questions = _sensitive_in(table_query)
    if request.scope == "raw" and secret_questions and not may_read_sensitive(user, form):
        raise Forbidden(
            f"'{secret_questions[0]}' is a sensitive question: a table of raw counts by it "
            "needs a role that may read sensitive answers."
        )
    snapshot = query.snapshot(form)
    threshold = form.project.disclosure_threshold
    # A published table depends only on the snapshot (named by the data's fingerprint),
    # the request and the threshold: the gate's audit is the costly part, done once.
    published_key = _published_key(snapshot.name, threshold, request)
    if request.scope != "raw":
        remembered = cache.get(published_key)
        if remembered is not None:
            return cast(dict[str, Any], remembered)
    secret = {
        name: levels_by_submission(
            form, name, reason="tables.cross_table", actor=user, origin=origin
        ).as_arrow()
        for name in secret_questions
    }
    counts = query.grouped_counts(snapshot, table_query, secret)
    rows = _levels(questions, table_query.rows.name, counts, 0)
    cols = _levels(questions, table_query.cols.name, counts, 1) if table_query.cols else []
    conditions = len(table_query.conditions())
    notes = [
        "Counts are people: a person with several choices counts once in a total.",
        "Rejected submissions are left out.",
    ]
    if form.is_synthetic or form.project.is_synthetic:
        notes.insert(0, "Synthetic data: invented answers, not a statistic about anyone.")
    everything = frozenset(range(conditions))
    if request.scope == "raw":
        table = _table(counts, rows, cols, everything)
        record(
            actor=user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="tables.read",
            project=form.project,
            target=form,
            detail={"request": _described(request)},
        )
        return _output(table, None, questions, request, threshold, notes)
    protected = _Gate(counts, rows, cols, threshold).published(everything)
    if protected.suppressed():
        notes.append(
            f"Counts below {threshold} are hidden ('primary'), with others hidden so they cannot "
            "be worked out from totals or from the same table without a filter ('secondary'); "
            "percentages of hidden counts are hidden too ('derived')."
        )
    published = _output(
        _table(counts, rows, cols, everything), protected, questions, request, threshold, notes
    )
    cache.set(published_key, published, PUBLISHED_CACHE_SECONDS)
    return published


PUBLISHED_CACHE_SECONDS = 24 * 3600


def _sensitive_in(table_query: query.TableQuery) -> list[str]:
    """The sensitive questions a table groups or filters by, each once."""
    used = [table_query.rows, table_query.cols, *(item.question for item in table_query.filters)]
    names: list[str] = []
    for question in used:
        if question is not None and question.sensitive and question.name not in names:
            names.append(question.name)
    return names


def _published_key(snapshot_name: str, threshold: int, request: TableRequest) -> str:
    described = json.dumps([snapshot_name, threshold, _described(request)], sort_keys=True)
    return "tables:" + hashlib.sha256(described.encode("utf-8")).hexdigest()


def _described(request: TableRequest) -> dict[str, Any]:
    return {
        "rows": request.rows,
        "cols": request.cols,
        "filters": list(request.filters),
        "since": request.since.isoformat() if request.since else None,
        "until": request.until.isoformat() if request.until else None,
    }


def _parse(request: TableRequest, questions: _Questions) -> query.TableQuery:
    rows = questions.question(request.rows, "rows")
    cols = questions.question(request.cols, "cols") if request.cols else None
    if cols is not None and cols.name == rows.name:
        raise InvalidInput("cols", "cols: choose a question other than the rows' question.")
    if len(request.filters) > MAX_FILTERS:
        raise InvalidInput("filter", f"filter: at most {MAX_FILTERS} filters in one table.")
    filters = []
    for text in request.filters:
        name, sign, level = text.partition("=")
        if not sign or not name or not level:
            raise InvalidInput(
                "filter", f"filter: '{text}' is not QUESTION=LEVEL (for example gender=female)."
            )
        question = questions.question(name.strip(), "filter")
        filters.append(
            query.ChoiceFilter(question, questions.level(question.name, level.strip(), "filter"))
        )
    if request.since and request.until and request.until < request.since:
        raise InvalidInput("until", "until: the end date is before the start date (since).")
    since = datetime.combine(request.since, time.min, UTC) if request.since else None
    # `until` is the last day included.
    until = (
        datetime.combine(request.until + timedelta(days=1), time.min, UTC)
        if request.until
        else None
    )
    return query.TableQuery(rows, cols, tuple(filters), since, until)


def _levels(
    questions: _Questions, name: str, counts: query.GroupedCounts, position: int
) -> list[str]:
    """The question's choices in the form's order, then any other level the data has."""
    known = [choice for choice, _ in questions.levels.get(name, [])]
    seen = {str(key[position]) for key in counts if key[position] is not None}
    return known + sorted(seen - set(known))


def _table(
    counts: query.GroupedCounts, rows: list[str], cols: list[str], active: frozenset[int]
) -> CountTable:
    """The table of people meeting every condition in `active` (others ignored)."""
    summed: dict[tuple[str | None, str | None], int] = {}
    for (row, col, met), people in counts.items():
        if all(met[i] for i in active):
            summed[(row, col)] = summed.get((row, col), 0) + people
    if not cols:
        return count_table(
            {row: summed.get((row, None), 0) for row in rows},
            rows=rows,
            total=summed.get((None, None), 0),
        )
    return count_table(
        {(row, col): summed.get((row, col), 0) for row in rows for col in cols},
        rows=rows,
        cols=cols,
        row_totals={row: summed.get((row, None), 0) for row in rows},
        col_totals={col: summed.get((None, col), 0) for col in cols},
        total=summed.get((None, None), 0),
    )


class _Gate:
    """Protects the table for a set of conditions, with the wider tables as overlaps.

    The wider table (one condition dropped) is protected by the same rule, so
    what is checked against is exactly what a request without that filter gets.
    """

    def __init__(
        self, counts: query.GroupedCounts, rows: list[str], cols: list[str], threshold: int
    ) -> None:
        self.counts = counts
        self.rows = rows
        self.cols = cols
        self.threshold = threshold
        self.done: dict[frozenset[int], ProtectedTable] = {}

    def published(self, active: frozenset[int]) -> ProtectedTable:
        if active not in self.done:
            overlaps = [
                Overlap(
                    _table(self.counts, self.rows, self.cols, active - {i}),
                    self.published(active - {i}),
                )
                for i in sorted(active)
            ]
            table = _table(self.counts, self.rows, self.cols, active)
            self.done[active] = protect_table(table, threshold=self.threshold, overlaps=overlaps)
        return self.done[active]


def _output(
    table: CountTable,
    protected: ProtectedTable | None,
    questions: _Questions,
    request: TableRequest,
    threshold: int,
    notes: list[str],
) -> dict[str, Any]:
    def entry(key: Key) -> dict[str, Any]:
        if protected is not None:
            return protected.entries[key].as_dict()
        count = table.counts[key]
        denominator = table.counts[(TOTAL, key[1])]
        return {
            "row": None if key[0] == TOTAL else key[0],
            "col": None if key[1] == TOTAL else key[1],
            "count": count,
            "percent": round(100.0 * count / denominator, 1) if denominator else None,
            "suppressed": None,
        }

    labels = dict(questions.levels.get(request.rows, []))
    col_labels = dict(questions.levels.get(request.cols, [])) if request.cols else {}
    cells = (
        [entry((row, col)) for row in table.rows for col in table.cols]
        if table.cols
        else [entry((row, TOTAL)) for row in table.rows]
    )
    return {
        "rows": _axis(request.rows, questions, table.rows, labels),
        "cols": _axis(request.cols, questions, table.cols, col_labels) if request.cols else None,
        "cells": cells,
        "totals": {
            "rows": [entry((row, TOTAL)) for row in table.rows] if table.cols else [],
            "cols": [entry((TOTAL, col)) for col in table.cols],
            "all": entry((TOTAL, TOTAL)),
        },
        "suppressed": protected.suppressed() if protected is not None else [],
        "threshold": threshold,
        "scope": request.scope,
        "notes": notes,
    }


def _axis(
    name: str, questions: _Questions, levels: tuple[str, ...], labels: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "question": name,
        "label": questions.labels.get(name, name),
        "levels": [{"name": level, "label": labels.get(level, level)} for level in levels],
    }
