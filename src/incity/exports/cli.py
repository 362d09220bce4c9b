"""`incity export` (a form's data to a file, now) and `incity worker` (runs background jobs).

`incity export` acts as the machine operator (acting user none, channel cli),
like `incity forms`, unless `--as USERNAME` names a user whose role then
decides, exactly as on the web. Either way the export is an audited raw read.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from incity.cli import CliError, _ensure_migrated, _setup_django

FORMATS = ("csv", "xlsx", "sav", "dta", "parquet", "geojson")


def _acting_user(username: str | None) -> Any:
    if username is None:
        return None
    from incity.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CliError(f"--as: no active user named '{username}'.", 2)
    return user


def _form_pk(value: str) -> int:
    """FORM is a form's number, or PROJECT-SLUG/FORM_ID (as `incity forms list` shows both)."""
    if value.isdigit():
        return int(value)
    project, _, form_id = value.partition("/")
    if not project or not form_id:
        raise CliError(
            f"FORM must be a form's number or project-slug/form_id (see 'incity forms list'), "
            f"not {value!r}.",
            2,
        )
    from incity.surveys.models import Form

    pk = Form.objects.filter(project__slug=project, form_id=form_id).values_list("pk", flat=True)
    found = pk.first()
    if found is None:
        raise CliError(f"no form '{form_id}' in a project '{project}'.")
    return int(found)


def cmd_export(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.audit import Origin
    from incity.exports.engine import ExportOptions, parse_since
    from incity.exports.services import export_to_file

    user = _acting_user(args.as_user)
    options = ExportOptions(
        format=args.format,
        labels=args.labels,
        language=args.language,
        since=parse_since(args.since) if args.since else None,
        include_sensitive=args.include_sensitive,
    )
    result = export_to_file(
        acting_user=user,
        origin=Origin.cli(),
        form_pk=_form_pk(args.form),
        options=options,
        out=Path(args.out).expanduser(),
        force=args.force,
    )
    tables = len(result.plan.layout.tables)
    linked = f", {tables - 1} linked tables" if tables > 1 else ""
    synthetic = " (synthetic data)" if result.plan.form.is_synthetic else ""
    print(f"wrote {result.path}: {result.submissions} submissions{linked}{synthetic}")
    return 0


def _worker(batch: bool, interval: float) -> Any:
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["default", "exports"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"incity-{threading.get_native_id()}",
        excluded_queue_names=[],
    )


def _require_database_backend() -> None:
    from django.conf import settings

    if settings.TASKS_BACKEND != "database":
        raise CliError(
            f"INCITY_TASKS_BACKEND is '{settings.TASKS_BACKEND}': jobs run where they are "
            "started, so there is nothing for a worker to do.",
            2,
        )


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    _require_database_backend()
    from incity.exports.services import resume_interrupted_jobs

    resumed = resume_interrupted_jobs()
    note = f"; queued {resumed} interrupted jobs again" if resumed else ""
    print(f"incity worker: running background jobs{note} (Ctrl+C to stop)", flush=True)
    worker = _worker(args.batch, args.interval)
    worker.configure_signals()
    worker.run()
    return 0


def start_worker_thread() -> threading.Thread | None:
    """A worker beside the web server in one process (the demo), so jobs run without a
    second command. Production runs `incity worker` as its own service instead."""
    from django.conf import settings

    if settings.TASKS_BACKEND != "database":
        return None
    from incity.exports.services import resume_interrupted_jobs

    resume_interrupted_jobs()
    thread = threading.Thread(target=_worker(False, 1.0).run, name="incity-worker", daemon=True)
    thread.start()
    return thread


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--interval must be seconds, not {value!r}") from None
    if not 0 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"--interval must be 0 to 3600 seconds, not {value}")
    return seconds


def register(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="export a form's submissions as csv, xlsx, sav, dta, parquet or geojson"
    )
    export.add_argument("form", help="the form's number, or project-slug/form_id")
    export.add_argument("--format", required=True, help=", ".join(FORMATS))
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument(
        "--labels",
        default="codes",
        help="write choices as their codes (default) or their labels",
    )
    export.add_argument(
        "--language",
        help="the form language of the labels, e.g. 'English (en)' (default: the form's)",
    )
    export.add_argument(
        "--since", help="only submissions received on or after this date (YYYY-MM-DD)"
    )
    export.add_argument(
        "--include-sensitive",
        action="store_true",
        help="include sensitive answers (only for roles that may read raw data)",
    )
    export.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user")
    export.add_argument("--force", action="store_true", help="replace the file if it exists")
    export.set_defaults(handler=cmd_export)

    worker = commands.add_parser("worker", help="run background jobs (exports) until stopped")
    worker.add_argument("--batch", action="store_true", help="stop when no job is waiting")
    worker.add_argument(
        "--interval", type=_interval, default=1.0, help="seconds between looks for new jobs"
    )
    worker.set_defaults(handler=cmd_worker)
