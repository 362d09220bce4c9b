"""The survey engine under load: importing a large XLSForm, and storing submissions.

(a) XLSForm import of a generated form (500 questions in 25 groups, 10,000
    choices, English, German and Swedish): `services.forms.import_xlsform` end to
    end (read, check, store, publish; reading runs pyxform's own conversion as
    one of its checks), beside pyxform's `xls2xform.convert` on the same bytes.
(b) Submission throughput through the real API URLs (Django's test client, a
    bearer token, the DiPS demo form's composition with synthetic answers):
    5,000 submissions in batches of 1,000 to `/submissions/batch`, beside 1,000
    posts of one submission to `/submissions`. On SQLite (the benchmark's own
    database) and on PostgreSQL in a throwaway database `incity_bench_<pid>`
    made and dropped by a child process (skipped, with the reason, when the
    server at INCITY_BENCH_POSTGRES_URL cannot be reached).

Run with `make bench` (all benchmarks) or `python -m bench`. The submission
throughput alone: `python -m bench.surveys_bench` on SQLite, and
`python -m bench.surveys_bench --postgres postgres://postgres@127.0.0.1:5432/postgres`
on PostgreSQL. The machine may be shared: every throughput line says the load
average it was measured under.
"""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class Row:
    """One line of the table `python -m bench` prints (the same fields as access_bench's)."""

    name: str
    incity_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.incity_ms


POSTGRES_URL = os.environ.get(
    "INCITY_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
LANGUAGES = ("English (en)", "Deutsch (de)", "Svenska (sv)")
GROUPS = 25
QUESTIONS_PER_GROUP = 20  # 500 questions
SELECT_QUESTIONS = 400
CHOICES_PER_LIST = 25  # 400 lists x 25 = 10,000 choices
IMPORT_REPEATS = 3
BATCHES = 5
BATCH_SIZE = 1000
SINGLES = 1000
DISTINCT_ANSWER_SETS = 1000
_RESULT = "SURVEYS-BENCH-RESULT "


def _say(text: str) -> None:
    print(f"  surveys bench: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# (a) XLSForm import
# --------------------------------------------------------------------------------------


def build_xlsform() -> bytes:
    """A large, valid XLSForm: groups, relevance, constraints, three languages."""
    from openpyxl import Workbook

    workbook = Workbook()
    survey = workbook.active
    assert survey is not None
    survey.title = "survey"
    survey.append(
        [
            "type",
            "name",
            *(f"label::{language}" for language in LANGUAGES),
            *(f"hint::{language}" for language in LANGUAGES),
            "required",
            "relevant",
            "constraint",
            *(f"constraint_message::{language}" for language in LANGUAGES),
        ]
    )
    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", *(f"label::{language}" for language in LANGUAGES)])
    words = {"English (en)": "Question", "Deutsch (de)": "Frage", "Svenska (sv)": "Fråga"}
    option = {"English (en)": "Option", "Deutsch (de)": "Antwort", "Svenska (sv)": "Alternativ"}
    number = 0
    selects = 0
    previous_select = ""
    for group in range(1, GROUPS + 1):
        survey.append(
            ["begin group", f"g{group}", *(f"{words[lang]} group {group}" for lang in LANGUAGES)]
        )
        for _ in range(QUESTIONS_PER_GROUP):
            number += 1
            name = f"q{number}"
            labels = [f"{words[lang]} {number}" for lang in LANGUAGES]
            hints = [f"hint {number} ({lang})" for lang in LANGUAGES]
            relevant = ""
            if previous_select and number % 4 == 0:
                relevant = f"${{{previous_select}}} != 'c1'"
            if selects < SELECT_QUESTIONS and number % 5 != 0:
                selects += 1
                list_name = f"list{selects}"
                kind = "select_multiple" if selects % 3 == 0 else "select_one"
                survey.append(
                    [f"{kind} {list_name}", name, *labels, *hints, "", relevant, "", "", "", ""]
                )
                for choice in range(1, CHOICES_PER_LIST + 1):
                    choices.append(
                        [
                            list_name,
                            f"c{choice}",
                            *(f"{option[lang]} {choice}/{selects}" for lang in LANGUAGES),
                        ]
                    )
                previous_select = name
            elif number % 2 == 0:
                survey.append(
                    [
                        "integer",
                        name,
                        *labels,
                        *hints,
                        "yes",
                        relevant,
                        ". >= 0 and . <= 120",
                        "0-120",
                        "0-120",
                        "0-120",
                    ]
                )
            else:
                survey.append(["text", name, *labels, *hints, "", relevant, "", "", "", ""])
        survey.append(["end group", "", "", "", ""])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "form_title", "version", "default_language"])
    settings.append(["bench_large", "Large generated form (synthetic)", "1", "English (en)"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _best_ms(function: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()  # garbage left by the previous repeat is not this one's cost
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def xlsform_row(project_slug: str) -> Row:
    from django.db import transaction
    from pyxform.xls2xform import convert

    from incity.accounts.audit import Origin
    from incity.surveys.services import forms as form_services
    from incity.surveys.xlsform import read_xlsform

    data = build_xlsform()
    origin = Origin(channel="bench")

    def incity() -> None:
        with transaction.atomic():
            result = form_services.import_xlsform(
                acting_user=None,
                origin=origin,
                project_slug=project_slug,
                data=data,
                filename="bench_large.xlsx",
            )
            assert result.version is not None, result.warnings
            assert result.questions == GROUPS * QUESTIONS_PER_GROUP
            transaction.set_rollback(True)  # the next repeat imports a new form again

    def baseline() -> None:
        assert convert(xlsform=io.BytesIO(data), file_type=".xlsx").xform

    read_ms = _best_ms(lambda: read_xlsform(data, "bench_large.xlsx"), IMPORT_REPEATS)
    row = Row(
        f"XLSForm import, {GROUPS * QUESTIONS_PER_GROUP} questions, "
        f"{SELECT_QUESTIONS * CHOICES_PER_LIST:,} choices, 3 languages "
        "(incity: read + check + store + publish; baseline: pyxform convert)",
        _best_ms(incity, IMPORT_REPEATS),
        _best_ms(baseline, IMPORT_REPEATS),
    )
    _say(
        f"XLSForm ({len(data) / 1024:.0f} KiB): import end to end {row.incity_ms:.0f} ms "
        f"(read_xlsform alone {read_ms:.0f} ms), pyxform convert {row.baseline_ms:.0f} ms"
    )
    return row


# --------------------------------------------------------------------------------------
# (b) Submission throughput
# --------------------------------------------------------------------------------------


def _collector(prefix: str) -> tuple[str, str]:
    """An active synthetic project and a citizen researcher's API token in it."""
    from incity.accounts import services
    from incity.accounts.audit import Origin
    from incity.accounts.models import Membership, Organisation, Project, User
    from incity.accounts.roles import ProjectState, Role

    organisation = Organisation.objects.create(
        slug=f"{prefix}-city", name="Bench city (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug=f"{prefix}-survey",
        name="Bench survey (synthetic)",
        organisation=organisation,
        state=ProjectState.ACTIVE,
        is_synthetic=True,
    )
    user = User.objects.create(username=f"{prefix}-collector")
    Membership.objects.create(user=user, organisation=organisation, role=Role.CITIZEN_RESEARCHER)
    _, raw = services.create_api_token(
        acting_user=None, origin=Origin(channel="bench"), user=user, name="bench"
    )
    return project.slug, raw


def _dips_form(project_slug: str) -> tuple[int, Any]:
    from incity.accounts.audit import Origin
    from incity.demo.surveys import LANGUAGES as FORM_LANGUAGES
    from incity.demo.surveys import MODULES
    from incity.surveys.services import forms as form_services

    origin = Origin(channel="bench")
    form = form_services.create_form_from_modules(
        acting_user=None,
        origin=origin,
        project_slug=project_slug,
        form_id="dips_bench",
        title="DiPS survey (synthetic benchmark)",
        module_slugs=MODULES,
        languages=FORM_LANGUAGES,
    )
    version = form_services.publish_form(acting_user=None, origin=origin, form_pk=form.pk)
    return form.pk, version.definition


def _bodies(answer_sets: list[tuple[str, dict[str, Any]]], count: int) -> Iterator[dict[str, Any]]:
    started = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    for index in range(count):
        language, answers = answer_sets[index % len(answer_sets)]
        yield {
            "instance_id": f"uuid:{uuid.uuid4()}",
            "answers": answers,
            "language": language,
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(minutes=15)).isoformat(),
            "device_id": "bench-tablet",
            "consent": {"accepted": True},
        }


def _load() -> str:
    """The 1, 5 and 15 minute load averages: figures taken on a busy machine are slower."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def throughput_row(database: str) -> Row:
    from django.test import Client

    from incity.demo.surveys import synthetic_answer_sets

    project_slug, token = _collector(f"bench-{database.lower()}")
    form_pk, definition = _dips_form(project_slug)
    answer_sets = synthetic_answer_sets(definition, DISTINCT_ANSWER_SETS)
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    batch_url = f"/api/v1/forms/{form_pk}/submissions/batch"
    single_url = f"/api/v1/forms/{form_pk}/submissions"
    bodies = list(_bodies(answer_sets, BATCHES * BATCH_SIZE + SINGLES))
    # A server process is long-lived: one batch first (not timed) pays the one-off
    # costs (imports on first use, compiling the form's expressions), so the figures
    # are the steady state a collection day sees.
    warm_up = json.dumps({"submissions": list(_bodies(answer_sets, BATCH_SIZE))})
    response = client.post(batch_url, warm_up, content_type="application/json")
    assert response.status_code == 200, response.content[:500]
    batches = [
        json.dumps({"submissions": bodies[start : start + BATCH_SIZE]})
        for start in range(0, BATCHES * BATCH_SIZE, BATCH_SIZE)
    ]
    singles = [json.dumps(body) for body in bodies[BATCHES * BATCH_SIZE :]]

    gc.collect()
    start = time.perf_counter()
    cpu_start = time.process_time()
    for payload in batches:
        response = client.post(batch_url, payload, content_type="application/json")
        assert response.status_code == 200, response.content[:500]
        assert response.json()["created"] == BATCH_SIZE, response.json()["invalid"]
    batch_seconds = time.perf_counter() - start
    # This process's CPU time: on a shared machine it varies less than the wall-clock time.
    batch_cpu = time.process_time() - cpu_start

    gc.collect()
    start = time.perf_counter()
    for payload in singles:
        response = client.post(single_url, payload, content_type="application/json")
        assert response.status_code == 201, response.content[:500]
    single_seconds = time.perf_counter() - start

    batch_rate = BATCHES * BATCH_SIZE / batch_seconds
    single_rate = SINGLES / single_seconds
    _say(
        f"{database}: {BATCHES * BATCH_SIZE} in batches of {BATCH_SIZE}: {batch_seconds:.2f} s "
        f"= {batch_rate:,.0f}/s (CPU {batch_cpu:.2f} s = {BATCHES * BATCH_SIZE / batch_cpu:,.0f}/s); "
        f"{SINGLES} single posts: {single_seconds:.2f} s = {single_rate:,.0f}/s "
        f"(load average {_load()})"
    )
    return Row(
        f"submissions, ms per 1,000, {database} (incity: {BATCHES * BATCH_SIZE:,} in batches of "
        f"{BATCH_SIZE:,}, {batch_rate:,.0f}/s; baseline: {SINGLES:,} single posts, "
        f"{single_rate:,.0f}/s)",
        1000 * batch_seconds / (BATCHES * BATCH_SIZE) * 1000,
        1000 * single_seconds / SINGLES * 1000,
    )


@contextmanager
def _encryption_key() -> Iterator[None]:
    """Sensitive answers (the DiPS background module has some) need a key to be stored."""
    from cryptography.fernet import Fernet
    from django.test import override_settings

    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode("ascii")]):
        yield


# --------------------------------------------------------------------------------------
# PostgreSQL in a child process, with its own throwaway database
# --------------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def postgres_main(admin_url: str) -> int:
    """Child process: make `incity_bench_<pid>`, migrate, measure, print the row, drop it."""
    import psycopg
    from cryptography.fernet import Fernet

    name = f"incity_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        print(_RESULT + json.dumps({"skipped": " ".join(str(error).split())}))
        return 0
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = _with_database(admin_url, name)
        os.environ.setdefault("INCITY_SECRET_KEY", "bench-" + "k" * 40)
        os.environ["INCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="incity-bench-pg-")
        os.environ["INCITY_ENCRYPTION_KEYS"] = Fernet.generate_key().decode("ascii")
        os.environ["DJANGO_SETTINGS_MODULE"] = "incity.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        try:
            row = throughput_row("PostgreSQL")
        finally:
            connections.close_all()
        print(_RESULT + json.dumps({"row": asdict(row)}))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return 0


def _postgres_row() -> Row | None:
    repository = Path(__file__).resolve().parent.parent
    child = subprocess.run(
        [sys.executable, "-m", "bench.surveys_bench", "--postgres", POSTGRES_URL],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    sys.stderr.write(child.stderr)
    lines = [line for line in child.stdout.splitlines() if line.startswith(_RESULT)]
    if child.returncode != 0 or not lines:
        _say(f"PostgreSQL run failed (exit {child.returncode}); see the output above.")
        return None
    result = json.loads(lines[-1][len(_RESULT) :])
    if "skipped" in result:
        _say(f"PostgreSQL skipped: cannot reach {POSTGRES_URL}: {result['skipped']}")
        return None
    return Row(**result["row"])


def run() -> list[Row]:
    from incity.accounts.models import Organisation, Project
    from incity.accounts.roles import ProjectState

    organisation = Organisation.objects.create(
        slug="bench-xlsform", name="XLSForm bench (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug="bench-xlsform",
        name="XLSForm bench (synthetic)",
        organisation=organisation,
        state=ProjectState.ACTIVE,
        is_synthetic=True,
    )
    rows = [xlsform_row(project.slug)]
    from django.db import connection

    database = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    with _encryption_key():
        rows.append(throughput_row(database))
    postgres = _postgres_row()
    if postgres is not None:
        rows.append(postgres)
    return rows


def sqlite_main() -> int:
    """The submission throughput alone, on SQLite in a throwaway data directory."""
    os.environ.setdefault("INCITY_SECRET_KEY", "bench-" + "k" * 40)
    os.environ["INCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="incity-bench-sqlite-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "incity.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    with _encryption_key():
        row = throughput_row("SQLite")
    print(f"| {row.name} | {row.incity_ms:.1f} ms | {row.baseline_ms:.1f} ms | {row.ratio:.1f}x |")
    return 0


USAGE = (
    "usage: python -m bench.surveys_bench [--postgres URL] "
    "(submission throughput on SQLite, or on PostgreSQL; all benchmarks: python -m bench)"
)

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--postgres":
        sys.exit(postgres_main(sys.argv[2]))
    if len(sys.argv) == 1:
        sys.exit(sqlite_main())
    print(USAGE, file=sys.stderr)
    sys.exit(2)
