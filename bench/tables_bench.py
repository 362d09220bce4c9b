"""Cross-tables over a million submissions: which engine answers a dashboard in time?

A synthetic form of 60 questions (50 single choice with 5 levels, 5 multiple
choice, 5 numbers) and 1,000,000 submissions over a year (INCITY_BENCH_TABLES_N
to change the number). The query: rows = q01, cols = q02, filter q03 = l1,
received in the first half of the year.

- **SQL in the database**: the same counts from the typed `Answer` rows the app
  stores (one self-join per question, the date on `Submission`). Building
  `Answer` rows for 60 million values is too slow for a benchmark, so only the
  questions the query touches plus one more (4 per submission) are stored; more
  rows per submission would only make the SQL path slower.
- **DuckDB over a Parquet snapshot** (what the app runs, analysis/query.py):
  `grouped_counts` on a 60-question snapshot written straight from the
  generator in the app's layout, warm (best of 5); and building the snapshot
  from the stored `Answer` rows (`query.build_snapshot`, cold).
- **plain pandas**: the same filter and cross-tab on an in-memory DataFrame.
- The published answer: the DuckDB counts through the disclosure gate with the
  overlapping tables (filter dropped, date window dropped, both).
- The dashboard's own call, end to end: `analysis.tables.cross_table` (the service
  behind `GET /api/v1/forms/{form}/tables`) with the form's snapshot in place:
  permission check, freshness check, DuckDB counts and the gate, with the
  published-result cache emptied before every call; and the same call when the
  published result is remembered.

All timings are warm (best of five) unless they say cold.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.access_bench import Row

N = int(os.environ.get("INCITY_BENCH_TABLES_N", "1000000"))
SINGLE = [f"q{i:02d}" for i in range(1, 51)]
MULTIPLE = [f"m{i:02d}" for i in range(1, 6)]
NUMBERS = [f"n{i:02d}" for i in range(1, 6)]
LEVELS = [f"l{i}" for i in range(1, 6)]
START = datetime(2026, 1, 1, tzinfo=UTC)
SINCE = START
UNTIL = START + timedelta(days=182)
STORED = ["q01", "q02", "q03", "q04"]


def _best(action: Callable[[], Any], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - began)
    return best * 1000


def _generated(rng: np.random.Generator) -> dict[str, Any]:
    """Answers of N people, column by column (skewed levels so some counts are small)."""
    weights = np.array([0.5, 0.3, 0.15, 0.049, 0.001])
    columns: dict[str, Any] = {
        "submission_id": np.arange(1, N + 1, dtype=np.int64),
        "received_at": pd.to_datetime(
            START.timestamp() + rng.integers(0, 365 * 86400, N), unit="s", utc=True
        ),
    }
    for name in SINGLE:
        columns[name] = np.array(LEVELS, dtype=object)[rng.choice(5, N, p=weights)]
    for name in MULTIPLE:
        picks = rng.random((N, 5)) < 0.3
        columns[name] = [[LEVELS[j] for j in np.flatnonzero(row)] or None for row in picks[:2000]]
        columns[name] = (columns[name] * (N // 2000 + 1))[:N]
    for name in NUMBERS:
        columns[name] = rng.integers(0, 100, N)
    return columns


def _wide_snapshot(columns: dict[str, Any], path: Path) -> None:
    table = pa.table(
        {
            "submission_id": columns["submission_id"],
            "received_at": pa.array(columns["received_at"], pa.timestamp("us", "UTC")),
            **{name: pa.array(columns[name], pa.string()) for name in SINGLE},
            **{name: pa.array(columns[name], pa.list_(pa.string())) for name in MULTIPLE},
        }
    )
    pq.write_table(table, path)


def _store(columns: dict[str, Any]) -> Any:
    """Form, version, N submissions and the Answer rows of the stored questions."""
    from django.db import connection, transaction

    from incity.accounts.models import Organisation, Project
    from incity.accounts.roles import ProjectState
    from incity.surveys.models import Answer, Form, FormVersion, Submission

    organisation = Organisation.objects.create(
        slug="bench-tables", name="Tables bench (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug="bench-tables",
        name="Tables bench (synthetic)",
        organisation=organisation,
        state=ProjectState.ACTIVE,
        is_synthetic=True,
    )
    choices = [{"name": level, "label": {"default": level}} for level in LEVELS]
    definition = {
        "form_id": "bench_tables",
        "title": "Tables bench (synthetic)",
        "default_language": "default",
        "languages": ["default"],
        "choices": {"levels": choices},
        "children": [{"type": "select_one", "name": name, "list_name": "levels"} for name in SINGLE]
        + [{"type": "select_multiple", "name": name, "list_name": "levels"} for name in MULTIPLE]
        + [{"type": "integer", "name": name} for name in NUMBERS],
    }
    form = Form.objects.create(
        project=project, form_id="bench_tables", title="Tables bench", draft=definition
    )
    version = FormVersion.objects.create(
        form=form, number=1, definition=definition, content_hash="x", question_count=60
    )
    quote = connection.ops.quote_name
    moments = columns["received_at"].to_pydatetime()
    with transaction.atomic(), connection.cursor() as cursor:
        table = quote(Submission._meta.db_table)
        names = [
            "id", "project_id", "form_id", "version_id", "instance_id", "answers", "language",
            "received_at", "channel", "status", "status_reason", "revision", "is_synthetic",
            "typed_pending", "device_id",
        ]  # fmt: skip
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('%s' for _ in names)})"
        )
        cursor.executemany(
            sql,
            [
                (i + 1, project.pk, form.pk, version.pk, f"b{i}", "{}", "", moments[i], "bench",
                 "received", "", 1, True, False, "")
                for i in range(N)
            ],
        )  # fmt: skip
        answer_table = quote(Answer._meta.db_table)
        answer_names = ["submission_id", "form_id", "path", "name", "repeat_path", "kind", "text"]
        sql = (
            f"INSERT INTO {answer_table} ({', '.join(quote(n) for n in answer_names)}) "
            f"VALUES ({', '.join('%s' for _ in answer_names)})"
        )
        for name in STORED:
            values = columns[name]
            cursor.executemany(
                sql, [(i + 1, form.pk, name, name, "", "choice", values[i]) for i in range(N)]
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return form


def _sql_counts(form: Any) -> list[tuple[Any, ...]]:
    """The cross-table as SQL over the typed answers (what the app would run without a snapshot)."""
    from django.db import connection

    from incity.surveys.models import Answer, Submission

    answer = connection.ops.quote_name(Answer._meta.db_table)
    submission = connection.ops.quote_name(Submission._meta.db_table)
    sql = (
        f"SELECT r.text, c.text, COUNT(*) FROM {answer} r "
        f"JOIN {answer} c ON c.submission_id = r.submission_id AND c.form_id = %s AND c.name = %s "
        f"JOIN {answer} f ON f.submission_id = r.submission_id AND f.form_id = %s "
        f"AND f.name = %s AND f.text = %s "
        f"JOIN {submission} s ON s.id = r.submission_id "
        f"WHERE r.form_id = %s AND r.name = %s AND s.received_at >= %s AND s.received_at < %s "
        f"GROUP BY r.text, c.text"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [form.pk, "q02", form.pk, "q03", "l1", form.pk, "q01", SINCE, UNTIL])
        return list(cursor.fetchall())


def _pandas_counts(frame: pd.DataFrame) -> pd.DataFrame:
    chosen = frame[
        (frame["q03"] == "l1") & (frame["received_at"] >= SINCE) & (frame["received_at"] < UNTIL)
    ]
    return pd.crosstab(chosen["q01"], chosen["q02"], margins=True)


def run() -> list[Row]:
    from incity.analysis import query
    from incity.analysis.tables import _Gate

    rng = np.random.default_rng(5)
    columns = _generated(rng)
    work = Path(tempfile.mkdtemp(prefix="incity-tables-bench-"))
    wide = work / "wide.parquet"
    _wide_snapshot(columns, wide)
    frame = pd.DataFrame({k: v for k, v in columns.items() if k not in MULTIPLE})
    questions = {name: query.Categorical(name, False) for name in SINGLE}
    table_query = query.TableQuery(
        questions["q01"],
        questions["q02"],
        (query.ChoiceFilter(questions["q03"], "l1"),),
        SINCE,
        UNTIL,
    )
    multiple_query = query.TableQuery(
        query.Categorical("m01", True),
        questions["q02"],
        (query.ChoiceFilter(query.Categorical("m02", True), "l2"),),
    )
    duckdb_ms = _best(lambda: query.grouped_counts(wide, table_query))
    multiple_ms = _best(lambda: query.grouped_counts(wide, multiple_query))
    pandas_ms = _best(lambda: _pandas_counts(frame))
    counts = query.grouped_counts(wide, table_query)
    gate_ms = _best(lambda: _Gate(counts, LEVELS, LEVELS, 10).published(frozenset({0, 1})))

    began = time.perf_counter()
    form = _store(columns)
    store_s = time.perf_counter() - began
    sql_ms = _best(lambda: _sql_counts(form), repeats=3)
    stored = {name: query.Categorical(name, False) for name in STORED}
    began = time.perf_counter()
    query.build_snapshot(form, work / "built.parquet", stored)
    build_ms = (time.perf_counter() - began) * 1000
    fingerprint_ms = _best(lambda: query.fingerprint(form), repeats=3)
    dashboard_ms, remembered_ms = _dashboard(form, wide)
    label = f"{N:,} submissions"
    print(f"# stored {N:,} submissions and {len(STORED) * N:,} Answer rows in {store_s:.0f} s")
    return [
        Row(
            f"cross-table, filter + dates, {label}: DuckDB snapshot vs SQL on Answer",
            duckdb_ms,
            sql_ms,
        ),
        Row("same query: DuckDB snapshot vs plain pandas (in memory)", duckdb_ms, pandas_ms),
        Row(f"multiple-choice rows and filter, {label}: DuckDB vs pandas", multiple_ms, pandas_ms),
        Row("disclosure gate with 3 overlapping tables vs the counting query", gate_ms, duckdb_ms),
        Row("freshness check (fingerprint) vs counting query", fingerprint_ms, duckdb_ms),
        Row("snapshot build from Answer (cold, 4 questions) vs SQL query", build_ms, sql_ms),
        Row(
            f"dashboard cross-table end to end (service, gate, no result cache), {label} vs pandas",
            dashboard_ms,
            pandas_ms,
        ),
        Row("same, published result remembered vs pandas", remembered_ms, pandas_ms),
    ]


def _dashboard(form: Any, wide: Path) -> tuple[float, float]:
    """The cross-table as the dashboard asks for it, with the app's snapshot in place.

    The snapshot is the generator's wide file (the app's layout, all 55 choice
    questions) under the name `query.snapshot` looks for; building it from 55
    million `Answer` rows is the cold path measured above for 4 questions.
    """
    import shutil

    from django.core.cache import cache

    from incity.accounts.audit import Origin
    from incity.analysis import query
    from incity.analysis.tables import TableRequest, cross_table

    target = query.snapshot_dir() / f"form-{form.pk}-{query.fingerprint(form)}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(wide, target)
    request = TableRequest(
        rows="q01",
        cols="q02",
        filters=("q03=l1",),
        since=SINCE.date(),
        until=(UNTIL - timedelta(days=1)).date(),
        scope="published",
    )
    origin = Origin.cli()

    def fresh() -> Any:
        cache.clear()
        return cross_table(None, origin, form.pk, request)  # type: ignore[arg-type]

    fresh_ms = _best(fresh)
    remembered_ms = _best(lambda: cross_table(None, origin, form.pk, request))  # type: ignore[arg-type]
    return fresh_ms, remembered_ms
