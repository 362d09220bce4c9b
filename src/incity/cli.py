"""The `incity` command: friendly subcommands over Django management.

Every failure prints one line on stderr and exits non-zero: 2 for a usage or
configuration problem, 1 when the operation itself was refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from incity import __version__

if TYPE_CHECKING:
    from incity.accounts.models import User

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A refusal to report on one line, with the exit status to use."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _setup_django(*, demo: bool = False) -> None:
    if demo:
        os.environ["INCITY_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incity.settings")
    import django

    django.setup()


def _ensure_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError("the database is not up to date; run 'incity migrate' first.")


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    from incity.settings import DATA_DIR

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def _serve(host: str, port: int, threads: int) -> None:
    from django.conf import settings
    from waitress import serve

    from incity.wsgi import application

    # WhiteNoise expects the collected-static folder to exist, even if empty.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)

    print(f"incity is serving at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    serve(application, host=host, port=port, threads=threads, ident="incity")


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    _serve(args.host, args.port, args.threads)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django(demo=True)
    from django.core.management import call_command

    from incity.demo.network import DEMO_PASSWORD, load_demo_network
    from incity.settings import DATA_DIR

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    summary = load_demo_network()
    print("incity demo: synthetic demo data (generated; no real people or findings)")
    print(
        f"  {summary.organisations} organisations, {summary.projects} projects, data in {DATA_DIR}"
    )
    print(f"  demo logins (password '{DEMO_PASSWORD}', demo mode only):")
    for username, description in summary.logins:
        print(f"    {username:<18} {description}")
    base = f"http://{args.host}:{args.port}"
    print(f"  collection app (sign in as a collector): {base}/collect/demo-survey/dips_demo/")
    print(f"  fieldwork, dashboards and maps: {base}/fieldwork/demo-survey/")
    if args.no_serve:
        return 0
    from incity.exports.cli import start_worker_thread

    start_worker_thread()  # background jobs (exports) run beside the server: no second command
    _serve(args.host, args.port, args.threads)
    return 0


def _read_password_from_stdin() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError("--password-stdin was given but no password arrived on standard input.", 2)
    return line


def cmd_users_create(args: argparse.Namespace) -> int:
    password = _read_password_from_stdin() if args.password_stdin else None
    _setup_django()
    _ensure_migrated()
    from incity.accounts import services
    from incity.accounts.audit import Origin

    user = services.create_user(
        acting_user=None,
        origin=Origin.cli(),
        username=args.username,
        organisation_slug=args.org,
        role=args.role,
        password=password,
        email=args.email or "",
    )
    note = "" if password else " (no password yet: they set one with 'Forgot password')"
    print(f"created {user.username} as {args.role} in {args.org}{note}")
    return 0


def _user_by_name(username: str) -> User:
    from incity.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CliError(f"no user named '{username}'.")
    return user


def cmd_users_token(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts import services
    from incity.accounts.audit import Origin

    user = _user_by_name(args.username)
    _, raw = services.create_api_token(
        acting_user=None, origin=Origin.cli(), user=user, name=args.name, days=args.days
    )
    print(raw)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.models import Membership

    for membership in Membership.objects.select_related("user", "organisation").order_by(
        "user__username", "organisation__slug"
    ):
        print(f"{membership.user.username}\t{membership.organisation.slug}\t{membership.role}")
    return 0


def cmd_orgs_create(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts import services
    from incity.accounts.audit import Origin

    organisation = services.create_organisation(
        acting_user=None,
        origin=Origin.cli(),
        slug=args.slug,
        name=args.name,
        kind=args.kind,
        country=args.country or "",
    )
    print(f"created organisation {organisation.slug} ({organisation.kind})")
    return 0


def cmd_orgs_list(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.models import Organisation

    for organisation in Organisation.objects.order_by("slug"):
        synthetic = "\tsynthetic" if organisation.is_synthetic else ""
        print(f"{organisation.slug}\t{organisation.kind}\t{organisation.name}{synthetic}")
    return 0


def cmd_permissions(args: argparse.Namespace) -> int:
    from django.conf import settings

    # The matrix needs no database or secrets; role labels only need translation switched off.
    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        settings.configure(USE_I18N=False)
    from incity.accounts.permissions import matrix_markdown

    sys.stdout.write(matrix_markdown())
    return 0


def cmd_messages(args: argparse.Namespace) -> int:
    from incity.i18n import compile_catalogues

    written = compile_catalogues()
    print(
        f"translations: {len(written)} catalogues compiled"
        if written
        else "translations: up to date"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from incity.checks import run_checks

    return run_checks(deploy=args.deploy)


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["incity manage", *args.arguments])
    return 0


def _positive_port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, not {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {port}")
    return port


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=_positive_port, default=8000, help="port to listen on (default 8000)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incity",
        description="incity: evidence, plans and peer learning for inclusive cities.",
    )
    parser.add_argument("--version", action="version", version=f"incity {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="load the synthetic demo network and serve it")
    demo.add_argument("--no-serve", action="store_true", help="load the demo and stop")
    _add_server_options(demo)
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser("serve", help="serve incity (production WSGI server)")
    _add_server_options(serve)
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="create or update the database")
    migrate.add_argument("--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    migrate.set_defaults(handler=cmd_migrate)

    check = commands.add_parser("check", help="check configuration and deployment, with advice")
    check.add_argument("--deploy", action="store_true", help="also apply production-only checks")
    check.set_defaults(handler=cmd_check)

    users = commands.add_parser("users", help="manage users and their API tokens")
    user_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    create = user_commands.add_parser("create", help="create a user with a role in an organisation")
    create.add_argument("--username", required=True)
    create.add_argument("--org", required=True, help="the organisation's slug")
    create.add_argument(
        "--role",
        required=True,
        help="network_admin, city_lead, researcher, citizen_researcher, partner or viewer",
    )
    create.add_argument("--email", help="address for password reset")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_users_create)
    token = user_commands.add_parser("token", help="make a new API token for a user and print it")
    token.add_argument("username")
    token.add_argument("--name", default="command line", help="a name to tell the token apart")
    token.add_argument(
        "--days", type=int, default=None, help="lifetime in days (default INCITY_API_TOKEN_DAYS)"
    )
    token.set_defaults(handler=cmd_users_token)
    listing = user_commands.add_parser("list", help="list users with their organisations and roles")
    listing.set_defaults(handler=cmd_users_list)

    orgs = commands.add_parser("orgs", help="manage organisations")
    org_commands = orgs.add_subparsers(dest="orgs_command", metavar="ACTION", required=True)
    org_create = org_commands.add_parser("create", help="add an organisation")
    org_create.add_argument("--slug", required=True)
    org_create.add_argument("--name", required=True)
    org_create.add_argument(
        "--kind", required=True, help="city, town, region, cso, university or funder"
    )
    org_create.add_argument("--country", help="ISO 3166-1 alpha-2 code")
    org_create.set_defaults(handler=cmd_orgs_create)
    org_list = org_commands.add_parser("list", help="list organisations")
    org_list.set_defaults(handler=cmd_orgs_list)

    permissions = commands.add_parser("permissions", help="print the permission matrix as Markdown")
    permissions.set_defaults(handler=cmd_permissions)

    messages = commands.add_parser("messages", help="compile the interface translations")
    messages.set_defaults(handler=cmd_messages)

    from incity.surveys.cli import register as register_survey_commands

    register_survey_commands(commands)

    from incity.places.cli import register as register_places_commands

    register_places_commands(commands)

    from incity.analysis.cli import register as register_stats_commands
    from incity.exports.cli import register as register_export_commands

    register_stats_commands(commands)
    register_export_commands(commands)

    from incity.maps.cli import register as register_map_commands

    register_map_commands(commands)

    manage = commands.add_parser("manage", help="run any Django management command")
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except CliError as error:
        print(f"incity: {error}", file=sys.stderr)
        return error.status
    except Exception as error:  # one line, never a traceback, for any failure
        return _report(error)


def _report(error: Exception) -> int:
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    from incity.errors import IncityError

    if isinstance(error, ImproperlyConfigured):
        print(f"incity: configuration: {error}", file=sys.stderr)
        return 2
    if isinstance(error, IncityError):
        print(f"incity: {error.message}", file=sys.stderr)
        return 1
    if isinstance(error, DatabaseError):
        print(
            f"incity: database error: {error}. "
            "Is DATABASE_URL right, and has 'incity migrate' run?",
            file=sys.stderr,
        )
        return 1
    print(f"incity: unexpected {type(error).__name__}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
