"""`incity forms`, `incity consent` and `incity keys`: the survey engine at the command line.

The handlers run as the machine operator (acting user None, channel cli) and
print one line per result; JSON where a script reads the output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from incity.cli import CliError, _ensure_migrated, _setup_django


def _read_file(path: str, limit: int) -> bytes:
    source = Path(path)
    if not source.is_file():
        raise CliError(f"no file at {path}.", 2)
    size = source.stat().st_size
    if size > limit:
        raise CliError(
            f"{path} is {size / 1024 / 1024:.1f} MB; the limit is {limit // 1024 // 1024} MB "
            "(INCITY_FORM_UPLOAD_MAX_MB).",
            1,
        )
    return source.read_bytes()


def cmd_forms_import(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from django.conf import settings

    from incity.accounts.audit import Origin
    from incity.surveys.services.forms import import_xlsform

    data = _read_file(args.path, settings.FORM_UPLOAD_MAX_BYTES)
    result = import_xlsform(
        acting_user=None,
        origin=Origin.cli(),
        project_slug=args.project,
        data=data,
        filename=Path(args.path).name,
    )
    for warning in result.warnings:
        print(f"warning: {warning}")
    for name in result.missing_files:
        print(f"missing file: {name} (upload it with 'incity forms upload {result.form.pk} FILE')")
    print(json.dumps(result.as_json(), ensure_ascii=False))
    return 0


def cmd_forms_export(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.surveys.queries import get_version
    from incity.surveys.xlsform import write_xlsform

    form = _form(args.form)
    definition: Any = (
        form.draft if args.version is None else get_version(form, args.version).definition
    )
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"{args.out} is a folder; give a file name ending in .xlsx.", 2)
    if not out.parent.exists():
        raise CliError(f"the folder {out.parent} does not exist.", 2)
    out.write_bytes(write_xlsform(definition))
    print(
        f"wrote {out} ({form.form_id}, {'draft' if args.version is None else f'version {args.version}'})"
    )
    return 0


def _form(value: str) -> Any:
    from incity.accounts.permissions import ProjectAction
    from incity.surveys.queries import get_form

    try:
        pk = int(value)
    except ValueError:
        raise CliError(
            f"FORM must be a form's number (as 'incity forms list' shows), not {value!r}.", 2
        ) from None
    return get_form(None, pk, ProjectAction.VIEW_PROJECT)


def cmd_forms_list(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.models import Project
    from incity.surveys.models import Form

    forms = Form.objects.select_related("project").order_by("project__slug", "form_id")
    if args.project:
        if not Project.objects.filter(slug=args.project).exists():
            raise CliError(f"no project '{args.project}'.")
        forms = forms.filter(project__slug=args.project)
    for form in forms:
        latest = form.latest_version()
        version = f"v{latest.number}" if latest else "-"
        print(
            f"{form.pk}\t{form.project.slug}\t{form.form_id}\t{form.status}\t{version}\t{form.title}"
        )
    return 0


def cmd_forms_upload(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from django.conf import settings

    from incity.accounts.audit import Origin
    from incity.surveys.services.forms import missing_files, upload_media

    form = _form(args.form)
    media = upload_media(
        acting_user=None,
        origin=Origin.cli(),
        form_pk=form.pk,
        filename=Path(args.path).name,
        content=_read_file(args.path, settings.FORM_MEDIA_MAX_BYTES),
    )
    missing = missing_files(media.form)
    still = f"; still missing: {', '.join(missing)}" if missing else "; no files missing"
    print(f"uploaded {media.filename} ({media.size} bytes){still}")
    return 0


def cmd_forms_publish(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.audit import Origin
    from incity.surveys.services.forms import publish_form

    form = _form(args.form)
    version = publish_form(acting_user=None, origin=Origin.cli(), form_pk=form.pk)
    print(f"published {form.form_id} version {version.number}")
    return 0


def cmd_forms_derive(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.surveys.services.typed import derive_typed_answers

    form = _form(args.form) if args.form else None
    count = derive_typed_answers(form=form)
    print(f"derived the typed answers of {count} submissions")
    return 0


def cmd_consent_withdraw(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.audit import Origin
    from incity.surveys.services.withdrawal import withdraw

    result = withdraw(origin=Origin.cli(), code=args.code)
    when = result.tombstone.withdrawn_at.strftime("%Y-%m-%d %H:%M UTC")
    if result.already:
        print(f"already withdrawn on {when}; nothing is held under this code")
    else:
        print(f"withdrawn: {result.tombstone.submissions_removed} submissions removed ({when})")
    return 0


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode("ascii"))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.audit import Origin
    from incity.surveys.services.sensitivity import rotate_encryption

    count = rotate_encryption(origin=Origin.cli())
    print(f"re-encrypted {count} stored values with the first key of INCITY_ENCRYPTION_KEYS")
    return 0


def register(commands: Any) -> None:
    """Add the survey commands to the `incity` parser's subcommands."""
    forms = commands.add_parser("forms", help="import, export and publish forms")
    actions = forms.add_subparsers(dest="forms_command", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import", help="import an XLSForm (.xlsx, .xls, .csv, .md); prints JSON last"
    )
    importing.add_argument("path")
    importing.add_argument("--project", required=True, help="the project's slug")
    importing.set_defaults(handler=cmd_forms_import)
    export = actions.add_parser("export-xlsform", help="write a form as an XLSForm (.xlsx)")
    export.add_argument("form", help="the form's number")
    export.add_argument("--out", required=True, help="the .xlsx file to write")
    export.add_argument("--version", type=int, help="a published version (default: the draft)")
    export.set_defaults(handler=cmd_forms_export)
    listing = actions.add_parser("list", help="list forms")
    listing.add_argument("--project", help="only this project's forms")
    listing.set_defaults(handler=cmd_forms_list)
    upload = actions.add_parser("upload", help="upload a media or CSV file a form names")
    upload.add_argument("form", help="the form's number")
    upload.add_argument("path")
    upload.set_defaults(handler=cmd_forms_upload)
    publish = actions.add_parser("publish", help="publish a form's draft as its next version")
    publish.add_argument("form", help="the form's number")
    publish.set_defaults(handler=cmd_forms_publish)

    derive = actions.add_parser(
        "derive", help="write the typed answers of submissions that arrived in batches"
    )
    derive.add_argument("form", nargs="?", help="only this form (default: every form)")
    derive.set_defaults(handler=cmd_forms_derive)

    consent = commands.add_parser("consent", help="respondents' consent")
    consent_actions = consent.add_subparsers(
        dest="consent_command", metavar="ACTION", required=True
    )
    withdraw = consent_actions.add_parser(
        "withdraw", help="remove every answer held under a withdrawal code"
    )
    withdraw.add_argument("code", help="the respondent's code, e.g. ABCD-EFGH-JK")
    withdraw.set_defaults(handler=cmd_consent_withdraw)

    keys = commands.add_parser("keys", help="encryption keys for sensitive answers")
    key_actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    generate = key_actions.add_parser("generate", help="print a new key")
    generate.set_defaults(handler=cmd_keys_generate)
    rotate = key_actions.add_parser(
        "rotate", help="re-encrypt stored answers with the first key of INCITY_ENCRYPTION_KEYS"
    )
    rotate.set_defaults(handler=cmd_keys_rotate)
