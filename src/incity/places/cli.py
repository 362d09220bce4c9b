"""`incity places`: import boundaries, list an organisation's areas, assign answers to areas.

The handlers run as the machine operator (acting user None, channel cli).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from incity.cli import CliError, _ensure_migrated, _setup_django


def cmd_places_import(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from django.conf import settings

    from incity.accounts.audit import Origin
    from incity.places.services import import_boundaries

    source = Path(args.path)
    if not source.is_file():
        raise CliError(f"no file at {args.path}.", 2)
    limit = settings.BOUNDARY_UPLOAD_MAX_BYTES
    if source.stat().st_size > limit:
        raise CliError(
            f"{args.path} is larger than the {limit // 1024 // 1024} MB limit "
            "(INCITY_BOUNDARY_UPLOAD_MAX_MB).",
        )
    result = import_boundaries(
        acting_user=None,
        origin=Origin.cli(),
        data=source.read_bytes(),
        filename=source.name,
        organisation_slug=args.org,
        project_slug=args.project or "",
        name_field=args.name_field,
        code_field=args.code_field or "",
        kind=args.kind,
        repair=not args.no_repair,
    )
    for note in result.repaired:
        print(f"repaired: {note}")
    print(json.dumps(result.as_json(), ensure_ascii=False))
    return 0


def cmd_places_list(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.models import Organisation
    from incity.places.queries import organisation_areas

    organisation = Organisation.objects.filter(slug=args.org).first()
    if organisation is None:
        raise CliError(f"no organisation '{args.org}'.")
    for area in organisation_areas(organisation):
        projects = ",".join(area.projects.values_list("slug", flat=True)) or "-"
        synthetic = " (synthetic)" if area.is_synthetic else ""
        print(f"{area.pk}\t{area.name}{synthetic}\t{area.code or '-'}\t{area.kind}\t{projects}")
    return 0


def cmd_places_assign(args: argparse.Namespace) -> int:
    _setup_django()
    _ensure_migrated()
    from incity.accounts.models import Project
    from incity.places.assignment import reassign_project

    project = Project.objects.filter(slug=args.project).first()
    if project is None:
        raise CliError(f"no project '{args.project}'.")
    summary = reassign_project(project)
    print(json.dumps({"project": project.slug, **summary.as_json()}))
    return 0


def register(commands: Any) -> None:
    """Add `incity places` to the `incity` parser's subcommands."""
    places = commands.add_parser("places", help="neighbourhood and ward boundaries")
    actions = places.add_subparsers(dest="places_command", metavar="ACTION", required=True)
    importing = actions.add_parser(
        "import",
        help="import boundaries from GeoJSON, GeoPackage (.gpkg) or a zipped Shapefile (.zip)",
    )
    importing.add_argument("path")
    importing.add_argument("--org", required=True, help="the organisation's slug")
    importing.add_argument("--project", help="also make the areas part of this project's area")
    importing.add_argument(
        "--name-field", default="name", help="the property holding each area's name"
    )
    importing.add_argument("--code-field", help="the property holding each area's code")
    importing.add_argument(
        "--kind",
        default="neighbourhood",
        help="neighbourhood (default), ward, district or municipality",
    )
    importing.add_argument(
        "--no-repair",
        action="store_true",
        help="refuse invalid geometries instead of repairing them",
    )
    importing.set_defaults(handler=cmd_places_import)
    listing = actions.add_parser("list", help="list an organisation's areas")
    listing.add_argument("--org", required=True, help="the organisation's slug")
    listing.set_defaults(handler=cmd_places_list)
    assigning = actions.add_parser(
        "assign",
        help="assign every geometry answer of a project to its area again (prints a JSON line)",
    )
    assigning.add_argument("project", help="the project's slug")
    assigning.set_defaults(handler=cmd_places_assign)
