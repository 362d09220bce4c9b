"""Exports of a large synthetic form: the streaming writers beside a naive export.

INCITY_BENCH_SUBMISSIONS (default 1,000,000) synthetic submissions of a
60-question form are bulk-inserted with executemany into the bench's own
database (from 1,000 pre-generated answer sets, cycled). Each export then runs
in a fresh subprocess, so its peak memory (ru_maxrss, the whole process with
Django loaded) is its own. Baselines, in the same run: the naive export that
loads every submission through the ORM and writes row by row (CSV with
csv.writer, Parquet through a pandas DataFrame of all rows, XLSX with openpyxl's
normal workbook); and the same export with the columnar path switched off (the
row-by-row path every format has). XLSX runs on at most INCITY_BENCH_XLSX_SUBMISSIONS (default
100,000) because it is several times slower per cell than the other formats.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
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
    from django.db import connection, transaction

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
    generator = random.Random(5)
    templates = [_answers(generator) for _ in range(TEMPLATES)]
    received = datetime(2026, 11, 1, tzinfo=UTC).isoformat()
    sql = (
        "INSERT INTO surveys_submission (project_id, form_id, version_id, instance_id, answers,"
        " language, received_at, device_id, channel, status, status_reason, revision,"
        " is_synthetic, typed_pending) VALUES (%s, %s, %s, %s, %s, '', %s, '', 'bench',"
        " 'received', '', 1, %s, %s)"
    )
    step = 50_000
    for start in range(0, count, step):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [
                    (
                        project.pk,
                        form.pk,
                        version.pk,
                        f"bench:{n}",
                        templates[n % TEMPLATES],
                        received,
                        True,
                        False,
                    )
                    for n in range(start, min(start + step, count))
                ],
            )
    return int(form.pk)


_EXPORT = """
import django, json, resource, sys, time
from pathlib import Path
django.setup()
from incity.exports import columnar
from incity.exports.engine import ExportOptions, plan_export, write
from incity.surveys.models import Form
if sys.argv[4:] == ["rows"]:
    columnar.supported = lambda *args: False
form = Form.objects.get(pk=int(sys.argv[1]))
start = time.perf_counter()
plan = plan_export(form, ExportOptions(format=sys.argv[2]))
rows = write(plan, Path(sys.argv[3]))
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "rows": rows,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_NAIVE = """
import django, json, resource, sys, time, csv
django.setup()
from incity.surveys.models import Form, Submission
form = Form.objects.get(pk=int(sys.argv[1]))
fmt, out = sys.argv[2], sys.argv[3]
start = time.perf_counter()
every = list(Submission.objects.filter(form=form).order_by("pk"))
names = sorted({key for s in every[:1000] for key in s.answers})
if fmt == "csv":
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission_id", *names])
        for s in every:
            writer.writerow([s.pk, *(s.answers.get(n) for n in names)])
elif fmt == "parquet":
    import pandas as pd
    pd.DataFrame([{"submission_id": s.pk, **s.answers} for s in every]).to_parquet(out)
else:
    from openpyxl import Workbook
    book = Workbook(); sheet = book.active; sheet.append(["submission_id", *names])
    for s in every:
        sheet.append([s.pk, *(s.answers.get(n) for n in names)])
    book.save(out)
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "rows": len(every),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(
    script: str, form_pk: int, fmt: str, folder: Path, path: str = "columnar"
) -> dict[str, float]:
    out = folder / f"{'naive' if script is _NAIVE else 'incity'}.{fmt}"
    out.unlink(missing_ok=True)
    environment = dict(os.environ)
    completed = subprocess.run(
        [sys.executable, "-c", script, str(form_pk), fmt, str(out), path],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"export {fmt} failed: {completed.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["mb_file"] = out.stat().st_size / 1024 / 1024
    out.unlink(missing_ok=True)
    return result


def run() -> list[Row]:
    count = int(os.environ.get("INCITY_BENCH_SUBMISSIONS", "1000000"))
    xlsx_count = min(count, int(os.environ.get("INCITY_BENCH_XLSX_SUBMISSIONS", "100000")))
    form_pk = _build(count)
    folder = Path(tempfile.mkdtemp(prefix="incity-exports-bench-"))
    rows: list[Row] = []
    for fmt in ("csv", "parquet"):
        mine = _measure(_EXPORT, form_pk, fmt, folder)
        by_rows = _measure(_EXPORT, form_pk, fmt, folder, "rows")
        naive = _measure(_NAIVE, form_pk, fmt, folder)
        rows.append(
            Row(
                f"export {fmt}, {count:,} submissions x {QUESTIONS} questions, columnar path "
                f"(peak RSS {mine['peak_mb']:.0f} MB vs naive {naive['peak_mb']:.0f} MB)",
                mine["ms"],
                naive["ms"],
            )
        )
        rows.append(
            Row(
                f"export {fmt}, {count:,} submissions, row-by-row path (peak RSS "
                f"{by_rows['peak_mb']:.0f} MB)",
                by_rows["ms"],
                naive["ms"],
            )
        )
    # XLSX on its own (smaller) form so the row count is the one reported.
    xlsx_form = form_pk if xlsx_count == count else _xlsx_form(form_pk, xlsx_count)
    mine = _measure(_EXPORT, xlsx_form, "xlsx", folder)
    naive = _measure(_NAIVE, xlsx_form, "xlsx", folder)
    rows.append(
        Row(
            f"export xlsx, {xlsx_count:,} submissions x {QUESTIONS} questions "
            f"(peak RSS {mine['peak_mb']:.0f} MB vs naive {naive['peak_mb']:.0f} MB)",
            mine["ms"],
            naive["ms"],
        )
    )
    return rows


def _xlsx_form(form_pk: int, count: int) -> int:
    """A copy of the bench form holding the first `count` submissions."""
    from django.db import connection, transaction

    from incity.surveys.models import Form, FormVersion

    source = Form.objects.get(pk=form_pk)
    copy = Form.objects.create(
        project=source.project, form_id="bench_wide_xlsx", title=source.title,
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
