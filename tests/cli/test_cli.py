"""The `incity` command as an operator meets it: help, users, tokens, organisations, errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from incity.accounts.models import ApiToken, AuditEvent, Membership, Organisation, User
from incity.accounts.services import user_for_token
from incity.cli import build_parser, main
from tests.personas import Cast

INCITY = [sys.executable, "-m", "incity.cli"]


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("INCITY_", "DATABASE_URL"))}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [*INCITY, *args],
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _subcommand_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            paths.append([name])
            if sub._subparsers is not None:
                for inner in sub._subparsers._group_actions:
                    paths.extend([name, inner_name] for inner_name in inner.choices)
    return paths


@pytest.mark.parametrize("path", _subcommand_paths(), ids=lambda p: " ".join(p) or "incity")
def test_every_subcommand_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    assert "usage: incity" in capsys.readouterr().out


def test_it_refuses_an_unknown_subcommand_with_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err


def test_it_refuses_to_start_without_a_secret_key_outside_demo_mode(tmp_path: Path) -> None:
    result = _run(["migrate"], {"INCITY_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "INCITY_SECRET_KEY is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "incity.sqlite3").exists()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("INCITY_DEBUG", "maybe", "INCITY_DEBUG must be one of"),
        ("INCITY_EMAIL_PORT", "twenty-five", "INCITY_EMAIL_PORT must be a whole number"),
        ("INCITY_LOGIN_FAILURE_LIMIT", "0", "INCITY_LOGIN_FAILURE_LIMIT must be at least 1"),
        ("INCITY_CACHE_URL", "memcached://x", "INCITY_CACHE_URL must be"),
        ("INCITY_EMAIL_BACKEND", "pigeon", "INCITY_EMAIL_BACKEND must be one of"),
        ("DATABASE_URL", "oracle-ish://nowhere", "DATABASE_URL is not a database URL"),
        ("INCITY_SECRET_KEY", "short", "INCITY_SECRET_KEY is too short"),
    ],
)
def test_a_malformed_variable_gets_one_line_naming_it(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    env = {"INCITY_DATA_DIR": str(tmp_path), "INCITY_SECRET_KEY": "k" * 40, variable: value}
    result = _run(["migrate"], env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_an_operator_sets_up_an_instance_from_the_command_line(tmp_path: Path) -> None:
    env = {"INCITY_DATA_DIR": str(tmp_path), "INCITY_SECRET_KEY": "k" * 40}
    assert _run(["migrate", "--verbosity", "0"], env).returncode == 0
    created = _run(
        ["orgs", "create", "--slug", "oakham", "--name", "Oakham", "--kind", "town"], env
    )
    assert created.returncode == 0, created.stderr
    user = _run(
        [
            "users",
            "create",
            "--username",
            "olga",
            "--org",
            "oakham",
            "--role",
            "city_lead",
            "--password-stdin",
        ],
        env,
        stdin="a long and unguessable passphrase\n",
    )
    assert user.returncode == 0, user.stderr
    token = _run(["users", "token", "olga"], env)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().startswith("inc_")
    check = _run(["check"], env)
    assert check.returncode == 0, check.stderr
    assert "database schema is up to date" in check.stdout


def test_check_reports_pending_migrations_as_an_error(tmp_path: Path) -> None:
    env = {"INCITY_DATA_DIR": str(tmp_path), "INCITY_SECRET_KEY": "k" * 40}
    result = _run(["check"], env)
    assert result.returncode == 1
    assert "migrations not applied" in result.stderr
    assert "incity migrate" in result.stderr


def test_a_command_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    env = {"INCITY_DATA_DIR": str(tmp_path), "INCITY_SECRET_KEY": "k" * 40}
    result = _run(["users", "list"], env)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "incity: the database is not up to date; run 'incity migrate' first."
    )


# In-process tests below share the test database with the cast.


def test_users_create_refuses_an_unknown_organisation(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    before = User.objects.count()
    status = main(["users", "create", "--username", "zoe", "--org", "atlantis", "--role", "viewer"])
    assert status == 1
    assert capsys.readouterr().err.strip() == "incity: No organisation with slug 'atlantis'."
    assert User.objects.count() == before


def test_users_create_refuses_an_unknown_role(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    before = User.objects.count()
    status = main(["users", "create", "--username", "zoe", "--org", "riverton", "--role", "mayor"])
    assert status == 1
    err = capsys.readouterr().err
    assert "Unknown role 'mayor'" in err
    assert "city_lead" in err
    assert User.objects.count() == before


def test_users_create_refuses_a_taken_username(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["users", "create", "--username", "LENA", "--org", "riverton", "--role", "viewer"]
    )
    assert status == 1
    assert "already exists" in capsys.readouterr().err
    assert Membership.objects.filter(user=cast.lead).count() == 1


def test_users_create_refuses_a_weak_password(
    cast: Cast, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("12345678\n"))
    status = main(
        [
            "users",
            "create",
            "--username",
            "zoe",
            "--org",
            "riverton",
            "--role",
            "viewer",
            "--password-stdin",
        ]
    )
    assert status == 1
    assert "password" in capsys.readouterr().err.lower()
    assert not User.objects.filter(username="zoe").exists()


def test_users_create_refuses_an_empty_password_on_stdin(
    cast: Cast, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status = main(
        [
            "users",
            "create",
            "--username",
            "zoe",
            "--org",
            "riverton",
            "--role",
            "viewer",
            "--password-stdin",
        ]
    )
    assert status == 2
    assert "no password arrived" in capsys.readouterr().err
    assert not User.objects.filter(username="zoe").exists()


def test_users_create_refuses_a_username_with_spaces(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["users", "create", "--username", "zoe smith", "--org", "riverton", "--role", "viewer"]
    )
    assert status == 1
    assert "Username 'zoe smith'" in capsys.readouterr().err


def test_users_create_makes_a_member_and_audits_it(
    cast: Cast, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long and unguessable passphrase\n"))
    status = main(
        [
            "users",
            "create",
            "--username",
            "zoe",
            "--org",
            "riverton",
            "--role",
            "researcher",
            "--email",
            "zoe@example.org",
            "--password-stdin",
        ]
    )
    assert status == 0, capsys.readouterr().err
    zoe = User.objects.get(username="zoe")
    assert zoe.check_password("a long and unguessable passphrase")
    assert Membership.objects.get(user=zoe).role == "researcher"
    event = AuditEvent.objects.filter(action="user.create", target_id=str(zoe.pk)).get()
    assert event.channel == "cli"
    assert event.organisation == cast.riverton


def test_users_token_prints_a_working_token_that_is_stored_hashed(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "token", "rami", "--name", "laptop"]) == 0
    raw = capsys.readouterr().out.strip()
    assert user_for_token(raw) == cast.researcher
    token = ApiToken.objects.get(user=cast.researcher, name="laptop")
    assert raw not in token.key_hash
    assert token.prefix in raw


def test_users_token_refuses_an_unknown_user(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ApiToken.objects.count()
    assert main(["users", "token", "nobody"]) == 1
    assert capsys.readouterr().err.strip() == "incity: no user named 'nobody'."
    assert ApiToken.objects.count() == before


def test_users_token_refuses_a_lifetime_out_of_range(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["users", "token", "rami", "--days", "0"]) == 1
    assert "between 1 and 3650 days" in capsys.readouterr().err


def test_orgs_create_refuses_a_bad_slug_and_an_unknown_kind(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    before = Organisation.objects.count()
    assert main(["orgs", "create", "--slug", "Bad Slug", "--name", "X", "--kind", "city"]) == 1
    assert "slug 'Bad Slug'" in capsys.readouterr().err
    assert main(["orgs", "create", "--slug", "x", "--name", "X", "--kind", "galaxy"]) == 1
    assert "Unknown organisation kind 'galaxy'" in capsys.readouterr().err
    assert main(["orgs", "create", "--slug", "riverton", "--name", "X", "--kind", "city"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert Organisation.objects.count() == before


def test_the_port_option_refuses_a_number_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "port must be between 1 and 65535" in capsys.readouterr().err


def test_permissions_prints_the_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["permissions"]) == 0
    assert "| view_raw_data | active |" in capsys.readouterr().out
