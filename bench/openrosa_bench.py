"""OpenRosa submissions as ODK Collect sends them, against `incity serve` (waitress) in a
subprocess: 500 submissions, each a HEAD then a multipart POST with a ~20 KB photo, from 20
concurrent clients (each its own citizen researcher, HTTP Basic). Baseline: the same 500
through the JSON API's single-submission endpoint with bearer tokens, same concurrency.
Checks that every submission is stored exactly once (and that re-sent ones are not stored
again) and that every photo arrived with its MD5.

SQLite in a throwaway data directory; PostgreSQL too when INCITY_BENCH_POSTGRES_URL is set
(a throwaway database `incity_bench_openrosa_<pid>`, created and dropped). Each runs in a
child process: `python -m bench.openrosa_bench --child sqlite|postgres`.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # access_bench imports models, which need Django set up first
    from bench.access_bench import Row

# INCITY_BENCH_OPENROSA_SUBMISSIONS shortens a trial run; the figures reported use 500.
SUBMISSIONS = int(os.environ.get("INCITY_BENCH_OPENROSA_SUBMISSIONS", "500"))
CLIENTS = 20
RESENT = SUBMISSIONS // 10
PASSWORD = "bench passphrase for synthetic collectors 7"
_RESULT = "OPENROSA-BENCH-RESULT "
_EN = "English (en)"
FORM = {
    "form_id": "bench_walk",
    "title": "Bench walk (synthetic)",
    "default_language": _EN,
    "languages": [_EN],
    "settings": {},
    "choices": {"feature": [{"name": n, "label": {_EN: n}} for n in ("lights", "bench", "trees")]},
    "children": [
        {"type": "text", "name": "street", "label": {_EN: "Street"}, "required": True},
        {"type": "integer", "name": "minutes", "label": {_EN: "Minutes"}},
        {
            "type": "select_multiple",
            "name": "features",
            "list_name": "feature",
            "label": {_EN: "What is there?"},
        },
        {"type": "geopoint", "name": "spot", "label": {_EN: "Where?"}},
        {"type": "image", "name": "photo", "label": {_EN: "Photo"}},
    ],
}


def _say(text: str) -> None:
    print(f"openrosa bench: {text}", file=sys.stderr, flush=True)


def _photo() -> bytes:
    """A synthetic PNG of about 20 KB (noise, so it does not compress away)."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib import pyplot

    pixels = np.random.default_rng(7).random((80, 80, 3))
    output = io.BytesIO()
    pyplot.imsave(output, pixels, format="png")
    return output.getvalue()


def _seed() -> tuple[str, int, list[tuple[str, str]]]:
    """A synthetic project, its published form and CLIENTS collectors (username, token)."""
    from incity.accounts import services
    from incity.accounts.audit import Origin
    from incity.accounts.models import Membership, Organisation, Project, User
    from incity.accounts.roles import ProjectState, Role
    from incity.surveys.services import forms

    origin = Origin(channel="bench")
    organisation = Organisation.objects.create(
        slug="bench-or-city", name="OpenRosa bench city (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug="bench-or-survey",
        name="OpenRosa bench survey (synthetic)",
        organisation=organisation,
        state=ProjectState.ACTIVE,
        is_synthetic=True,
    )
    collectors = []
    for number in range(CLIENTS):
        user = User(username=f"bench-collector-{number}")
        user.set_password(PASSWORD)
        user.save()
        Membership.objects.create(
            user=user, organisation=organisation, role=Role.CITIZEN_RESEARCHER
        )
        _, token = services.create_api_token(
            acting_user=None, origin=origin, user=user, name="bench"
        )
        collectors.append((user.username, token))
    lead = User.objects.create(username="bench-or-lead")
    Membership.objects.create(user=lead, organisation=organisation, role=Role.RESEARCHER)
    form = forms.create_form(
        acting_user=lead,
        origin=origin,
        project_slug=project.slug,
        definition=FORM,  # type: ignore[arg-type]
    )
    forms.publish_form(acting_user=lead, origin=origin, form_pk=form.pk)
    return project.slug, form.pk, collectors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    # The server's log goes to a file: a pipe nobody reads would fill and stall it.
    log = Path(os.environ["INCITY_DATA_DIR"]) / "serve.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "incity.cli", "serve", "--port", str(port), "--threads", "8"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if server.poll() is not None:
                raise RuntimeError(f"incity serve stopped: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("incity serve did not answer /healthz within 120 s")


def _request(
    method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _instance(form_version: str, instance_id: str, number: int) -> bytes:
    return (
        f'<?xml version="1.0"?><data id="bench_walk" version="{form_version}">'
        f"<street>Synthetic Street {number}</street><minutes>{number % 60}</minutes>"
        f"<features>lights trees</features><spot>52.48 -1.89 0 5</spot>"
        f"<photo>photo-{number}.png</photo><meta><instanceID>{instance_id}</instanceID></meta>"
        "</data>"
    ).encode()


def _multipart(xml: bytes, filename: str, photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n'.encode(),
            xml,
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="{filename}"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode(),
            photo,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _concurrently(jobs: list[Callable[[], float]]) -> tuple[float, list[float]]:
    """Run the jobs on CLIENTS threads; the wall time and each job's latency (seconds)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        latencies = list(pool.map(lambda job: job(), jobs))
    return time.perf_counter() - started, latencies


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def scenario(database: str) -> list[Row]:
    """Child process body: seed, serve, send, check; returns the rows."""
    from django.db import connections

    from bench.access_bench import Row
    from incity.surveys.models import Submission, SubmissionAttachment

    slug, form_pk, collectors = _seed()
    connections.close_all()
    port = _free_port()
    server = _start_server(port)
    base = f"http://127.0.0.1:{port}"
    photo = _photo()
    _say(f"{database}: photo {len(photo)} bytes; serving at {base}")
    failures: list[str] = []
    # The baseline's own failures (SQLite's busy timeout under this burst) are counted and
    # reported, not fatal: the JSON endpoint does not retry, which is its client's job.
    api_failures: list[str] = []
    retries: list[int] = []
    lock = threading.Lock()

    def openrosa_job(number: int, instance_id: str) -> Callable[[], float]:
        username, _ = collectors[number % CLIENTS]
        token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}
        body, content_type = _multipart(
            _instance("1", instance_id, number), f"photo-{number}.png", photo
        )

        def job() -> float:
            started = time.perf_counter()
            head, _ = _request("HEAD", f"{base}/openrosa/{slug}/submission", headers)
            for attempt in range(6):
                status, content = _request(
                    "POST",
                    f"{base}/openrosa/{slug}/submission",
                    {**headers, "Content-Type": content_type},
                    body,
                )
                if status != 503:
                    break
                # As a phone does: a busy server's submission is sent again a little later.
                with lock:
                    retries.append(number)
                time.sleep(1.0 + attempt)
            if head != 204 or status not in (201, 202):
                with lock:
                    failures.append(
                        f"openrosa {number}: HEAD {head}, POST {status} {content[:200]!r}"
                    )
            return time.perf_counter() - started

        return job

    def api_job(number: int) -> Callable[[], float]:
        _, token = collectors[number % CLIENTS]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps(
            {
                "instance_id": f"uuid:{uuid.uuid4()}",
                "answers": {
                    "street": f"Synthetic Street {number}",
                    "minutes": number % 60,
                    "features": ["lights", "trees"],
                    "spot": {"type": "Point", "coordinates": [-1.89, 52.48]},
                    "photo": f"photo-{number}.png",
                },
            }
        ).encode()

        def job() -> float:
            started = time.perf_counter()
            status, content = _request(
                "POST", f"{base}/api/v1/forms/{form_pk}/submissions", headers, body
            )
            if status != 201:
                with lock:
                    api_failures.append(f"api {number}: {status} {content[:120]!r}")
            return time.perf_counter() - started

        return job

    def sign_in(number: int) -> Callable[[], float]:
        username, _ = collectors[number]
        token = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()

        def job() -> float:
            started = time.perf_counter()
            status, _ = _request(
                "HEAD", f"{base}/openrosa/{slug}/submission", {"Authorization": f"Basic {token}"}
            )
            if status != 204:
                with lock:
                    failures.append(f"sign-in {number}: HEAD {status}")
            return time.perf_counter() - started

        return job

    try:
        # Each phone's first request checks its password (PBKDF2, deliberately slow); the
        # server then remembers it for a few minutes. Timed apart from the submissions.
        sign_in_wall, _ = _concurrently([sign_in(n) for n in range(CLIENTS)])
        _say(f"{database}: {CLIENTS} first sign-ins at once took {sign_in_wall:.1f} s")
        ids = [f"uuid:{uuid.uuid4()}" for _ in range(SUBMISSIONS)]
        openrosa_wall, openrosa_latencies = _concurrently(
            [openrosa_job(n, ids[n]) for n in range(SUBMISSIONS)]
        )
        # Phones re-send when an answer is lost on the way: those must not be stored again.
        _concurrently([openrosa_job(n, ids[n]) for n in range(RESENT)])
        api_wall, api_latencies = _concurrently([api_job(n) for n in range(SUBMISSIONS)])
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed; first: {failures[0]}")
    stored = Submission.objects.filter(channel="openrosa")
    if stored.count() != SUBMISSIONS or set(stored.values_list("instance_id", flat=True)) != set(
        ids
    ):
        raise RuntimeError(f"expected {SUBMISSIONS} OpenRosa submissions, found {stored.count()}")
    attachments = SubmissionAttachment.objects.filter(submission__channel="openrosa")
    import hashlib

    digest = hashlib.md5(photo, usedforsecurity=False).hexdigest()
    if attachments.count() != SUBMISSIONS or attachments.exclude(md5=digest).exists():
        raise RuntimeError(f"expected {SUBMISSIONS} photos with their MD5")
    if Submission.objects.filter(channel="api").count() != SUBMISSIONS - len(api_failures):
        raise RuntimeError("the API baseline's stored count does not match its answers")
    if api_failures:
        _say(f"{database}: the API baseline refused {len(api_failures)}; first: {api_failures[0]}")
    _say(
        f"{database}: OpenRosa {SUBMISSIONS / openrosa_wall:.0f} submissions/s "
        f"(HEAD + POST with a {len(photo) // 1024} KB photo), API {SUBMISSIONS / api_wall:.0f}/s; "
        f"all {SUBMISSIONS} stored once, {RESENT} re-sent not stored again; "
        f"{len(retries)} POSTs answered 503 (busy) and were sent again"
    )
    label = f"{SUBMISSIONS} submissions, {CLIENTS} clients, {database}"
    return [
        Row(
            f"OpenRosa vs JSON API: wall time per submission ({label})",
            1000 * openrosa_wall / SUBMISSIONS,
            1000 * api_wall / SUBMISSIONS,
        ),
        Row(
            f"OpenRosa vs JSON API: p50 latency ({label})",
            1000 * statistics.median(openrosa_latencies),
            1000 * statistics.median(api_latencies),
        ),
        Row(
            f"OpenRosa vs JSON API: p95 latency ({label})",
            1000 * _percentile(openrosa_latencies, 0.95),
            1000 * _percentile(api_latencies, 0.95),
        ),
    ]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def child_main(database: str) -> int:
    """Child process: a fresh data directory (and database), then the scenario."""
    from cryptography.fernet import Fernet

    os.environ["INCITY_DATA_DIR"] = tempfile.mkdtemp(prefix="incity-bench-openrosa-")
    os.environ.setdefault("INCITY_SECRET_KEY", "bench-" + "k" * 40)
    os.environ["INCITY_ENCRYPTION_KEYS"] = Fernet.generate_key().decode("ascii")
    os.environ["INCITY_MFA_ENFORCED"] = "false"
    os.environ["INCITY_DEMO_MODE"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "incity.settings"
    os.environ.pop("DATABASE_URL", None)
    admin = None
    name = f"incity_bench_openrosa_{os.getpid()}"
    if database == "postgres":
        import psycopg

        admin_url = os.environ["INCITY_BENCH_POSTGRES_URL"]
        try:
            admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as error:
            print(_RESULT + json.dumps({"skipped": " ".join(str(error).split())}))
            return 0
        admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = _with_database(admin_url, name)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        try:
            rows = scenario("PostgreSQL" if admin is not None else "SQLite")
        finally:
            connections.close_all()
        print(_RESULT + json.dumps({"rows": [asdict(row) for row in rows]}))
    finally:
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    return 0


def _child_rows(database: str) -> list[Row]:
    from bench.access_bench import Row

    repository = Path(__file__).resolve().parent.parent
    child = subprocess.run(
        [sys.executable, "-m", "bench.openrosa_bench", "--child", database],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    sys.stderr.write(child.stderr[-4000:])
    lines = [line for line in child.stdout.splitlines() if line.startswith(_RESULT)]
    if child.returncode != 0 or not lines:
        _say(f"{database} run failed (exit {child.returncode}); see the output above.")
        return []
    result: dict[str, Any] = json.loads(lines[-1][len(_RESULT) :])
    if "skipped" in result:
        _say(f"PostgreSQL skipped: {result['skipped']}")
        return []
    return [Row(**row) for row in result["rows"]]


def run() -> list[Row]:
    rows = _child_rows("sqlite")
    if os.environ.get("INCITY_BENCH_POSTGRES_URL"):
        rows += _child_rows("postgres")
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child" and sys.argv[2] in ("sqlite", "postgres"):
        sys.exit(child_main(sys.argv[2]))
    print(
        "usage: python -m bench.openrosa_bench --child sqlite|postgres (or python -m bench openrosa)"
    )
    sys.exit(2)
