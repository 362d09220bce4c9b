"""`incity check`: configuration and deployment checks, each with advice on what to do.

Prints one line per check ("ok", "warning" or "error") and exits 1 if any error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | error
    subject: str
    advice: str = ""


Check = Callable[[], list[Finding]]


def _configuration() -> list[Finding]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incity.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        return [Finding("error", "configuration", str(error))]
    return [Finding("ok", "configuration loads from the environment")]


def _secret_and_mode() -> list[Finding]:
    from django.conf import settings

    findings = []
    if settings.DEMO_MODE:
        findings.append(
            Finding(
                "warning",
                "demo mode is on",
                "demo accounts with the password 'demo-pass' can sign in; never expose this "
                "instance to the internet. Unset INCITY_DEMO_MODE for real use.",
            )
        )
    else:
        findings.append(Finding("ok", "secret key is set and demo mode is off"))
    if settings.DEBUG:
        findings.append(
            Finding(
                "warning",
                "INCITY_DEBUG is on",
                "debug pages show internals; turn it off for real use.",
            )
        )
    return findings


def _data_dir() -> list[Finding]:
    from django.conf import settings

    data_dir = settings.DATA_DIR
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-check"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        return [
            Finding(
                "error",
                f"data directory {data_dir} is not writable ({error.strerror})",
                "set INCITY_DATA_DIR to a directory the incity user can write to.",
            )
        ]
    return [Finding("ok", f"data directory {data_dir} is writable")]


def _database() -> list[Finding]:
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return [
            Finding(
                "error",
                f"database does not answer ({type(error).__name__}: {error})",
                "check DATABASE_URL and that the database server is running.",
            )
        ]
    findings = [Finding("ok", f"database answers ({connection.vendor})")]
    if pending:
        findings.append(
            Finding("error", f"{len(pending)} migrations not applied", "run 'incity migrate'.")
        )
    else:
        findings.append(Finding("ok", "database schema is up to date"))
    if connection.vendor == "sqlite":
        findings.append(
            Finding(
                "ok",
                "SQLite (WAL) database",
                "fine for one machine; set DATABASE_URL=postgres://... "
                "before running several app servers.",
            )
        )
    return findings


def _cache() -> list[Finding]:
    from django.core.cache import cache

    try:
        cache.set("incity:check", "ok", 5)
        answered = cache.get("incity:check") == "ok"
    except Exception as error:  # any cache backend failure is reported, not raised
        return [
            Finding("error", f"cache fails ({type(error).__name__})", "check INCITY_CACHE_URL.")
        ]
    if not answered:
        return [Finding("error", "cache does not keep values", "check INCITY_CACHE_URL.")]
    return [Finding("ok", "cache answers")]


def _email() -> list[Finding]:
    from django.conf import settings

    if settings.EMAIL_BACKEND.endswith("console.EmailBackend") and not settings.DEMO_MODE:
        return [
            Finding(
                "warning",
                "password-reset e-mails are printed to the console",
                "set INCITY_EMAIL_BACKEND=smtp and INCITY_EMAIL_HOST/PORT/USER/PASSWORD.",
            )
        ]
    return [Finding("ok", "e-mail backend configured")]


def _demo_accounts() -> list[Finding]:
    from django.conf import settings
    from django.db import DatabaseError

    from incity.accounts.models import User

    try:
        count = User.objects.filter(is_demo_account=True).count()
    except DatabaseError:
        return []
    if count and not settings.DEMO_MODE:
        return [
            Finding(
                "warning",
                f"{count} demo accounts exist in this database",
                "they cannot sign in outside demo mode, but a production database should not hold "
                "them; use a fresh database for real data.",
            )
        ]
    return []


def _encryption_keys() -> list[Finding]:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from incity.surveys.crypto import check_keys

    if not settings.ENCRYPTION_KEYS:
        # Forms without sensitive questions still work, so this is a warning, not an error.
        return [
            Finding(
                "warning",
                "INCITY_ENCRYPTION_KEYS is not set",
                "answers to sensitive questions (such as migration status) will be refused; "
                "make a key with 'incity keys generate' and export it.",
            )
        ]
    try:
        check_keys()
    except ImproperlyConfigured as error:
        return [Finding("error", "encryption keys for sensitive answers", str(error))]
    return [Finding("ok", "encryption keys for sensitive answers are valid")]


# Django's deployment warnings, restated as the incity variable that fixes each.
_DEPLOY_ADVICE = {
    "security.W004": "set INCITY_HSTS_SECONDS (for example 31536000) once HTTPS works everywhere.",
    "security.W008": "set INCITY_SSL_REDIRECT=true, or redirect to HTTPS at the load balancer.",
    "security.W009": "set INCITY_SECRET_KEY to 50 or more random characters.",
    "security.W012": "set INCITY_HTTPS=true so the session cookie is sent over HTTPS only.",
    "security.W016": "set INCITY_HTTPS=true so the CSRF cookie is sent over HTTPS only.",
    "security.W018": "unset INCITY_DEBUG.",
    "security.W020": "set INCITY_ALLOWED_HOSTS to the host names incity is served under.",
}


def _deploy() -> list[Finding]:
    from django.core.checks import run_checks

    findings = []
    for message in run_checks(include_deployment_checks=True):
        level = "error" if message.is_serious() else "warning"
        advice = _DEPLOY_ADVICE.get(message.id or "", message.hint or "")
        findings.append(Finding(level, f"{message.id}: {message.msg}", advice))
    if not findings:
        findings.append(Finding("ok", "Django's deployment checks pass"))
    return findings


def run_checks(*, deploy: bool) -> int:
    configuration = _configuration()
    findings = list(configuration)
    if configuration[0].level == "ok":
        checks: list[Check] = [
            _secret_and_mode,
            _data_dir,
            _database,
            _cache,
            _encryption_keys,
            _email,
            _demo_accounts,
        ]
        if deploy:
            checks.append(_deploy)
        for check in checks:
            findings.extend(check())
    for finding in findings:
        advice = f" — {finding.advice}" if finding.advice else ""
        stream = sys.stderr if finding.level == "error" else sys.stdout
        print(f"{finding.level:<8}{finding.subject}{advice}", file=stream)
    return 1 if any(f.level == "error" for f in findings) else 0
