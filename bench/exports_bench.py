"""Exports of a large synthetic form from the column store, beside row-by-row exports.

INCITY_BENCH_SUBMISSIONS (default 1,000,000) synthetic submissions of a 60-question
form are bulk-inserted with executemany into the bench's own database (from 1,000
pre-generated answer sets, cycled). Every step then runs in a fresh subprocess, so its
peak memory (ru_maxrss, the whole process with Django loaded) is its own:

- the column store built from scratch (exports/store: `sync`);
- 1,000 more submissions inserted, the form's data version moved on, and `sync` again
  (incremental: only the last segment is rebuilt);
- CSV and Parquet exports from the current store (through `engine.write`, whose own
  `sync` finds the store current);
- baselines in the same run, on a copy of the form holding the first
  INCITY_BENCH_BASELINE_SUBMISSIONS (default 100,000) submissions, because the naive
  export holds every row in memory (over 10 GB at 1,000,000): the naive export (every
  submission through the ORM, csv.writer / a pandas DataFrame) and the row-by-row path
  with the store switched off; their times are also given scaled linearly to the full
  count, which is what they are (both are linear in the rows);
- XLSX (the row path, xlsxwriter in constant-memory mode) of every submission, which
  fits in one sheet up to 1,048,575; it takes minutes: INCITY_BENCH_XLSX=0 skips it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.access_bench import Row

QUESTIONS = 60
TEMPLATES = 1000


def _definition() -> dict[str, object]:
    en = "English (en)"
    children: list[dict[str, object]] = []
    for index in range(QUESTIONS):
        kind = ("integer", "select_one", "decimal", "text")[index % 4]
        element: dict[str, object] = {
            "type": kind,
            "name": f"q{index:02d}",
            "label": {en: f"Question {index} (synthetic)"},
        }
        if kind == "select_one":
            element["list_name"] = "agree"
        children.append(element)
    return {
        "form_id": "bench_wide",
        "title": "Wide bench form (synthetic)",
        "default_language": en,
        "languages": [en],
        "settings": {},
        "choices": {
            "agree": [
                {"name": name, "label": {en: name.replace("_", " ")}}
                for name in ("strongly_agree", "agree", "neutral", "disagree", "strongly_disagree")
            ]
        },
        "children": children,
    }


def _answers(generator: random.Random) -> str:
    values: dict[str, object] = {}
    for index in range(QUESTIONS):
        kind = index % 4
        name = f"q{index:02d}"
        if kind == 0:
            values[name] = generator.randint(16, 90)
        elif kind == 1:
            values[name] = generator.choice(
                ["strongly_agree", "agree", "neutral", "disagree", "strongly_disagree"]
            )
        elif kind == 2:
            values[name] = round(generator.uniform(0, 5000), 2)
        else:
            values[name] = f"synthetic answer {generator.randint(0, 999)}"
    return json.dumps(values)


def _build(count: int) -> int:

    from incity.accounts.models import Organisation, Project
    from incity.surveys.models import Form, FormVersion

    organisation = Organisation.objects.create(
        slug="bench-exports", name="Bench city (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug="bench-exports", name="Bench (synthetic)", organisation=organisation,
        state="active", is_synthetic=True,
    )  # fmt: skip
    definition = _definition()
    form = Form.objects.create(
        project=project, form_id="bench_wide", title=str(definition["title"]),
        status="open", draft=definition, is_synthetic=True,
    )  # fmt: skip
    version = FormVersion.objects.create(
        form=form, number=1, definition=definition, content_hash="bench", question_count=QUESTIONS
    )
    _insert(form.pk, project.pk, version.pk, 0, count)
    return int(form.pk)


def _templates() -> list[str]:
    generator = random.Random(5)
    return [_answers(generator) for _ in range(TEMPLATES)]


def _insert(form_pk: int, project_pk: int, version_pk: int, first: int, stop: int) -> None:
    """Submissions number `first` to `stop` - 1 of the bench form, by executemany."""
    from django.db import connection, transaction

    templates = _templates()
    received = datetime(2026, 11, 1, tzinfo=UTC).isoformat()
    sql = (
        "INSERT INTO surveys_submission (project_id, form_id, version_id, instance_id, answers,"
        " language, received_at, device_id, channel, status, status_reason, revision,"
        " is_synthetic, typed_pending) VALUES (%s, %s, %s, %s, %s, '', %s, '', 'bench',"
        " 'received', '', 1, %s, %s)"
    )
    step = 50_000
    for start in range(first, stop, step):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [
                    (project_pk, form_pk, version_pk, f"bench:{n}", templates[n % TEMPLATES],
                     received, True, False)
                    for n in range(start, min(start + step, stop))
                ],
            )  # fmt: skip


_PROLOGUE = """
import django, json, resource, sys, time
from pathlib import Path
django.setup()
from incity.surveys.models import Form
form = Form.objects.get(pk=int(sys.argv[1]))
start = time.perf_counter()
"""
_EPILOGUE = """
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "rows": rows,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
_SYNC = """
from incity.exports.store import sync
report = sync(form)
rows = report.rows_built
print(json.dumps({"state": report.state, "built": len(report.built),
    "unfit": len(report.unfit)}), file=sys.stderr)
"""
_EXPORT = """
from incity.exports import columnar
from incity.exports.engine import ExportOptions, plan_export, write
if sys.argv[4:] == ["rows"]:
    columnar.supported = lambda *args: False
plan = plan_export(form, ExportOptions(format=sys.argv[2]))
rows = write(plan, Path(sys.argv[3]))
"""
_NAIVE = """
import csv
from incity.surveys.models import Submission
fmt, out = sys.argv[2], sys.argv[3]
every = list(Submission.objects.filter(form=form).order_by("pk"))
names = sorted({key for s in every[:1000] for key in s.answers})
if fmt == "csv":
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission_id", *names])
        for s in every:
            writer.writerow([s.pk, *(s.answers.get(n) for n in names)])
else:
    import pandas as pd
    pd.DataFrame([{"submission_id": s.pk, **s.answers} for s in every]).to_parquet(out)
rows = len(every)
"""


def _measure(
    script: str, form_pk: int, fmt: str = "", folder: Path | None = None, path: str = "store"
) -> dict[str, float]:
    out = (folder or Path(tempfile.gettempdir())) / f"bench-export.{fmt or 'none'}"
    out.unlink(missing_ok=True)
    completed = subprocess.run(
        [sys.executable, "-c", _PROLOGUE + script + _EPILOGUE, str(form_pk), fmt, str(out), path],
        capture_output=True, text=True, env=dict(os.environ), check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"bench step {fmt or 'sync'} failed: {completed.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["mb_file"] = out.stat().st_size / 1024 / 1024 if out.exists() else 0.0
    out.unlink(missing_ok=True)
    step = "naive" if script is _NAIVE else "sync" if script is _SYNC else path
    # Each step as it ends, with the load it ran under (the table comes at the end).
    print(f"{step} {fmt}: {result} {completed.stderr.strip()[-200:]} load {os.getloadavg()}",
          file=sys.stderr, flush=True)  # fmt: skip
    return result


def settings_part_rows() -> int:
    from django.conf import settings

    return int(settings.EXPORT_STATS_PART_ROWS)


def _mb(result: dict[str, float]) -> str:
    return f"{result['peak_mb']:.0f} MB"


def run() -> list[Row]:
    count = int(os.environ.get("INCITY_BENCH_SUBMISSIONS", "1000000"))
    small = min(count, int(os.environ.get("INCITY_BENCH_BASELINE_SUBMISSIONS", "100000")))
    added = 1000
    started = time.perf_counter()
    form_pk = _build(count)
    print(f"inserted {count:,} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="incity-exports-bench-"))
    rows: list[Row] = []
    scale = count / small
    # The store first, so that the new submissions follow the form's own (in its last,
    # partly filled segment) rather than the baseline copy's.
    build = _measure(_SYNC, form_pk)
    _add_more(form_pk, count, added)
    again = _measure(_SYNC, form_pk)
    baseline_form = form_pk if small == count else _copy_form(form_pk, small)
    naive = {fmt: _measure(_NAIVE, baseline_form, fmt, folder) for fmt in ("csv", "parquet")}
    by_rows = {
        fmt: _measure(_EXPORT, baseline_form, fmt, folder, "rows") for fmt in ("csv", "parquet")
    }
    rows.append(
        Row(f"column store built from scratch, {count:,} submissions x {QUESTIONS} questions "
            f"(peak RSS {_mb(build)}); baseline: naive CSV export, {small:,} scaled x{scale:g}",
            build["ms"], naive["csv"]["ms"] * scale)
    )  # fmt: skip
    rows.append(
        Row(f"store sync after {added:,} new submissions ({again['rows']:,.0f} rows of the "
            f"touched segment rebuilt; peak RSS {_mb(again)}); baseline: the build from scratch",
            again["ms"], build["ms"])
    )  # fmt: skip
    total = count + added
    for fmt in ("csv", "parquet"):
        mine = _measure(_EXPORT, form_pk, fmt, folder)
        assert mine["rows"] == total, mine
        for label, base in (("naive", naive[fmt]), ("row-by-row path", by_rows[fmt])):
            rows.append(
                Row(f"export {fmt} from the store, {total:,} submissions (peak RSS {_mb(mine)}, "
                    f"{mine['mb_file']:.0f} MB file); baseline: {label} at {small:,} "
                    f"(peak RSS {_mb(base)}) scaled x{total / small:g}",
                    mine["ms"], base["ms"] * total / small)
            )  # fmt: skip
    if os.environ.get("INCITY_BENCH_STATS", "1") != "0":
        # SPSS and Stata are built in memory in parts of EXPORT_STATS_PART_ROWS rows: the
        # peak at the full count beside the peak at the baseline's count shows it is flat.
        for fmt in ("sav", "dta"):
            whole = _measure(_EXPORT, form_pk, fmt, folder)
            part = _measure(_EXPORT, baseline_form, fmt, folder)
            rows.append(
                Row(f"export {fmt} (row path, parts of {settings_part_rows():,} rows), "
                    f"{total:,} submissions (peak RSS {_mb(whole)}, {whole['mb_file']:.0f} MB); "
                    f"baseline: the same at {small:,} (peak RSS {_mb(part)}) scaled",
                    whole["ms"], part["ms"] * total / small)
            )  # fmt: skip
    if os.environ.get("INCITY_BENCH_XLSX", "1") != "0":
        xlsx = _measure(_EXPORT, form_pk, "xlsx", folder)
        rows.append(
            Row(f"export xlsx (row path, xlsxwriter constant memory), {total:,} submissions "
                f"(peak RSS {_mb(xlsx)}, {xlsx['mb_file']:.0f} MB file); baseline: row-by-row "
                f"CSV at {small:,} scaled", xlsx["ms"], by_rows["csv"]["ms"] * total / small)
        )  # fmt: skip
    return rows


def _add_more(form_pk: int, count: int, added: int) -> None:
    """`added` new submissions, committed the way the service commits them (the form's
    data version moved on in the same transaction)."""
    from django.db import transaction

    from incity.surveys.models import Form
    from incity.surveys.services import data_state

    form = Form.objects.get(pk=form_pk)
    version = form.versions.get(number=1)
    with transaction.atomic():
        _insert(form.pk, form.project_id, version.pk, count, count + added)
        data_state.bump([form.pk])


def _copy_form(form_pk: int, count: int) -> int:
    """A copy of the bench form holding the first `count` submissions."""
    from django.db import connection, transaction

    from incity.surveys.models import Form, FormVersion

    source = Form.objects.get(pk=form_pk)
    copy = Form.objects.create(
        project=source.project, form_id="bench_wide_small", title=source.title,
        status="open", draft=source.draft, is_synthetic=True,
    )  # fmt: skip
    version = FormVersion.objects.create(
        form=copy, number=1, definition=source.draft, content_hash="bench", question_count=QUESTIONS
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO surveys_submission (project_id, form_id, version_id, instance_id,"
            " answers, language, received_at, device_id, channel, status, status_reason,"
            " revision, is_synthetic, typed_pending) SELECT project_id, %s, %s,"
            " 'x' || instance_id, answers, language, received_at, device_id, channel, status,"
            " status_reason, revision, is_synthetic, typed_pending FROM surveys_submission"
            " WHERE form_id = %s ORDER BY id LIMIT %s",
            [copy.pk, version.pk, form_pk, count],
        )
    return int(copy.pk)
