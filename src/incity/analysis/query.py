"""The columnar engine behind cross-tables: DuckDB over a Parquet snapshot of a form.

Chosen by benchmark (bench/tables_bench.py, docs/benchmarks.md): a cross-table
with filters over a million submissions reads one row per submission from a
columnar file in DuckDB in tens of milliseconds, where the same question
asked of the typed `Answer` rows in the database (one self-join per question)
takes seconds.

The snapshot holds one row per submission that is not rejected: its id, when
it was received, and one column per categorical question at the top level of
the form (select_one as text, select_multiple as a list of choice names).
Sensitive questions never reach `Answer`, so never reach the snapshot. It is
rebuilt from `Answer` whenever the form's submissions change (new, edited,
reviewed, withdrawn: see `fingerprint`), under `INCITY_DATA_DIR/analysis/`, and
deleted as soon as a withdrawal is committed (`purge_snapshots`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from incity.analysis.sensitive_groups import sensitive_names
from incity.surveys.definition import FormDefinition, walk
from incity.surveys.models import Answer, Form, Submission, SubmissionStatus, SurveySettings
from incity.surveys.queries import data_version
from incity.surveys.services.typed import derive_typed_answers

SINGLE = ("select_one", "select_one_from_file")
MULTIPLE = ("select_multiple", "select_multiple_from_file")
CHUNK = 200_000


@dataclass(frozen=True)
class Categorical:
    name: str
    multiple: bool
    # A sensitive select_one: its levels are never in the snapshot; `grouped_counts`
    # joins them from memory (analysis/sensitive_groups.py).
    sensitive: bool = False


def categorical_questions(definition: FormDefinition) -> dict[str, Categorical]:
    """Top-level choice questions (outside repeats): what a cross-table can use."""
    found: dict[str, Categorical] = {}
    for element, parents in walk(definition["children"]):
        if any(parent["type"] == "repeat" for parent in parents):
            continue
        if element["type"] in SINGLE or element["type"] in MULTIPLE:
            found[element["name"]] = Categorical(element["name"], element["type"] in MULTIPLE)
    return found


def form_categoricals(form: Form) -> dict[str, Categorical]:
    """Categorical questions over every published version (a later version wins)."""
    found: dict[str, Categorical] = {}
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        found.update(categorical_questions(definition))
    return found


def fingerprint(form: Form) -> str:
    """Changes whenever the form's submissions, its versions or the project's sensitive
    questions do. Three indexed reads, whatever the number of submissions: the
    submissions' side is the form's data counter (`surveys.queries.data_version`),
    which every write to them moves on."""
    sensitive = (
        SurveySettings.objects.filter(project_id=form.project_id)
        .values_list("updated_at", flat=True)
        .first()
    )
    versions = form.versions.count()
    raw = f"{form.pk}|{data_version(form)}|{sensitive}|{versions}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def purge_snapshots(form_ids: set[int]) -> None:
    """Delete the snapshots of these forms (a withdrawal: see surveys.derived)."""
    for form_id in form_ids:
        for path in snapshot_dir().glob(f"form-{form_id}-*.parquet"):
            path.unlink(missing_ok=True)


def snapshot_dir() -> Path:
    return Path(settings.DATA_DIR) / "analysis"


def snapshot(form: Form) -> Path:
    """The form's current snapshot, built first when the submissions changed."""
    derive_typed_answers(form=form)
    path = snapshot_dir() / f"form-{form.pk}-{fingerprint(form)}.parquet"
    if not path.exists():
        # Sensitive questions have no typed answers; they get no (empty) column either.
        secret = sensitive_names(form)
        plain = {name: q for name, q in form_categoricals(form).items() if name not in secret}
        build_snapshot(form, path, plain)
        for stale in snapshot_dir().glob(f"form-{form.pk}-*.parquet"):
            if stale != path:
                stale.unlink(missing_ok=True)
    return path


def build_snapshot(form: Form, path: Path, questions: dict[str, Categorical]) -> None:
    """Pivot the form's typed choice answers to one row per submission, in DuckDB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        long_path = Path(work) / "long.parquet"
        subs_path = Path(work) / "submissions.parquet"
        _write_submissions(form, subs_path)
        _write_choices(form, sorted(questions), long_path)
        columns = [
            (
                f"list(text ORDER BY id) FILTER (WHERE name = '{_name(q.name)}') AS \"{q.name}\""
                if q.multiple
                else f"any_value(text) FILTER (WHERE name = '{_name(q.name)}') AS \"{q.name}\""
            )
            for q in questions.values()
        ]
        selected = ", ".join(f'a."{q}"' for q in questions)
        pivot = ", ".join(["submission_id", *columns])
        sql = (
            f"COPY (SELECT s.submission_id, s.received_at{', ' + selected if selected else ''} "  # noqa: S608
            f"FROM read_parquet('{subs_path}') s LEFT JOIN "
            f"(SELECT {pivot} FROM read_parquet('{long_path}') GROUP BY submission_id) a "
            f"USING (submission_id) ORDER BY s.submission_id) TO '{path}.part' (FORMAT parquet)"
        )
        with duckdb.connect() as connection:
            connection.execute(sql)
        os.replace(f"{path}.part", path)


def _name(name: str) -> str:
    # XLSForm names are XML names (letters, digits, _ - .): no quote can occur.
    if "'" in name or '"' in name:
        raise ValueError(f"Unexpected question name {name!r}")
    return name


def _write_submissions(form: Form, path: Path) -> None:
    rows = (
        Submission.objects.filter(form=form)
        .exclude(status=SubmissionStatus.REJECTED)
        .order_by()
        .values_list("id", "received_at")
    )
    schema = pa.schema([("submission_id", pa.int64()), ("received_at", pa.timestamp("us", "UTC"))])
    with pq.ParquetWriter(path, schema) as writer:
        ids: list[int] = []
        moments: list[datetime] = []
        for pk, moment in rows.iterator(chunk_size=CHUNK):
            ids.append(pk)
            moments.append(moment)
            if len(ids) >= CHUNK:
                writer.write_table(pa.table([ids, moments], schema=schema))
                ids, moments = [], []
        writer.write_table(pa.table([ids, moments], schema=schema))


def _write_choices(form: Form, names: Sequence[str], path: Path) -> None:
    rows = (
        Answer.objects.filter(form=form, name__in=names, kind="choice", repeat_path="")
        .order_by()
        .values_list("id", "submission_id", "name", "text")
    )
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("submission_id", pa.int64()),
            ("name", pa.string()),
            ("text", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[tuple[int, int, str, str | None]] = []
        for row in rows.iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) >= CHUNK:
                writer.write_table(_arrow(batch, schema))
                batch = []
        writer.write_table(_arrow(batch, schema))


def _arrow(batch: list[tuple[int, int, str, str | None]], schema: pa.Schema) -> pa.Table:
    columns: list[list[Any]] = [[row[i] for row in batch] for i in range(4)]
    return pa.table(columns, schema=schema)


# ------------------------------------------------------------------------- the counts


@dataclass(frozen=True)
class ChoiceFilter:
    question: Categorical
    level: str


@dataclass(frozen=True)
class TableQuery:
    rows: Categorical
    cols: Categorical | None = None
    filters: tuple[ChoiceFilter, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[str]:
        """Each filter as a SQL condition; the date window counts as one."""
        found = [_filter_sql(item) for item in self.filters]
        window = _window_sql(self.since, self.until)
        if window:
            found.append(window)
        return found


# (row level, col level or None, one flag per condition, grouping level) -> people
GroupedCounts = dict[tuple[str | None, str | None, tuple[bool, ...]], int]


def column_sql(question: Categorical) -> str:
    """Where a question's level is: the snapshot (`t`), or for a sensitive question the
    levels joined from memory (`s_<name>`)."""
    name = _name(question.name)
    if question.sensitive:
        return f'{_secret_alias(name)}."{name}"::VARCHAR'
    return f't."{name}"'


def _filter_sql(item: ChoiceFilter) -> str:
    column = column_sql(item.question)
    level = item.level.replace("'", "''")
    if item.question.multiple:
        return f"coalesce(list_contains({column}, '{level}'), false)"
    return f"coalesce({column} = '{level}', false)"


def _window_sql(since: datetime | None, until: datetime | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"t.received_at >= TIMESTAMPTZ '{since.isoformat()}'")
    if until is not None:
        parts.append(f"t.received_at < TIMESTAMPTZ '{until.isoformat()}'")
    return " AND ".join(parts)


def grouped_counts(
    path: Path | str, query: TableQuery, secret: Mapping[str, pa.Table] | None = None
) -> GroupedCounts:
    """People per (row level, col level, which conditions they meet), margins included.

    One pass answers the requested table and every table with one condition
    dropped (the overlapping tables the disclosure gate checks against): the
    conditions are grouped on, not filtered on. Margins (`None` for a level)
    count people, so a person with several choices counts once: each grouping
    (cells, row margins, column margins, grand total) is its own aggregate in
    which only the questions it groups by are unnested, so every person is one
    row there and `count(*)` counts people, with no DISTINCT over a million ids.

    `secret` holds, per sensitive question of the query, an in-memory table
    (submission_id, level) that is joined by id and never written anywhere.
    """
    flags = [f"({condition}) AS f{i}" for i, condition in enumerate(query.conditions())]
    keys = "".join(f", f{i}" for i in range(len(flags)))
    answered = [_answered_sql(query.rows)]
    if query.cols:
        answered.append(_answered_sql(query.cols))
    groupings = [(True, True), (True, False), (False, False)]
    if query.cols:
        groupings.insert(2, (False, True))
    secret = dict(secret or {})
    source = f"read_parquet('{path}') AS t" + "".join(
        f" LEFT JOIN {_secret_alias(name)} USING (submission_id)" for name in sorted(secret)
    )
    flag_names = "".join(f", f{i}" for i in range(len(flags)))
    parts = []
    for by_row, by_col in groupings:
        # Levels are unnested in the select list, one question a level of nesting: two
        # unnests in one select would pair the lists up instead of crossing them, and a
        # lateral join in FROM is ten times slower here.
        row = _level_sql(query.rows, column_sql(query.rows)) if by_row else "NULL"
        kept = col = "NULL"
        if by_col and query.cols:
            kept = column_sql(query.cols)
            col = _level_sql(query.cols, "c0")
        inner = (
            f"SELECT {row}::VARCHAR AS r, {kept} AS c0{''.join(', ' + f for f in flags)} "  # noqa: S608
            f"FROM {source} WHERE {' AND '.join(answered)}"
        )
        parts.append(
            f"SELECT r, c, {int(not by_row)} AS gr, {int(not by_col)} AS gc{keys}, count(*) "  # noqa: S608
            f"FROM (SELECT r, ({col})::VARCHAR AS c{flag_names} FROM ({inner})) GROUP BY ALL"
        )
    counts: GroupedCounts = {}
    with duckdb.connect() as connection:
        for name, table in secret.items():
            connection.register(_secret_alias(name), table)
        for record in connection.execute(" UNION ALL ".join(parts)).fetchall():
            row, col, row_grouped, col_grouped = record[0], record[1], record[2], record[3]
            met = tuple(bool(flag) for flag in record[4:-1])
            row_key = None if row_grouped else row
            col_key = None if (col_grouped or not query.cols) else col
            counts[(row_key, col_key, met)] = int(record[-1])
    return counts


def _secret_alias(name: str) -> str:
    return "s_" + _name(name).replace(".", "_").replace("-", "_")


def _answered_sql(question: Categorical) -> str:
    """Whether a person answered: a level, or at least one choice of a multiple choice."""
    column = column_sql(question)
    if question.multiple:
        # Stored choices are never null (validation), so a non-empty list has a level.
        return f"coalesce(len({column}) > 0, false)"
    return f"{column} IS NOT NULL"


def _level_sql(question: Categorical, column: str) -> str:
    """A person's level, or one row per distinct choice of a multiple choice."""
    if question.multiple:
        return f"unnest(list_distinct({column}))"
    return column
