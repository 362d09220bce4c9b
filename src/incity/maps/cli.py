"""`incity maps layer`: a published map layer to a GeoJSON file or a static PNG/SVG map.

The same layers as `GET /api/v1/forms/{form}/layers/...`, through the same
disclosure gate: the command line never writes exact points. It acts as the
machine operator (like `incity export`) unless `--as USERNAME` names a user
whose role then decides.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from incity.cli import CliError, _ensure_migrated, _setup_django

KINDS = ("hexagons", "areas", "hotspots")
FORMATS = ("geojson", "png", "svg")


def register(commands: Any) -> None:
    maps = commands.add_parser("maps", help="published map layers as files")
    sub = maps.add_subparsers(dest="maps_command", metavar="ACTION", required=True)
    layer = sub.add_parser(
        "layer", help="write a published layer as GeoJSON, or as a PNG or SVG map"
    )
    layer.add_argument("form", metavar="FORM", help="a form's number or project-slug/form_id")
    layer.add_argument("--kind", default="hexagons", help="hexagons, areas or hotspots")
    layer.add_argument("--format", default="geojson", help="geojson, png or svg")
    layer.add_argument("--out", required=True, type=Path, help="the file to write")
    layer.add_argument("--force", action="store_true", help="replace the file if it exists")
    layer.add_argument("--question", help="the map question (default: the form's first)")
    layer.add_argument("--category", help="one category of marks, e.g. unsafe")
    layer.add_argument("--time", help="day, evening or night")
    layer.add_argument(
        "--group", action="append", default=[], metavar="Q=LEVEL", help="respondents' group"
    )
    layer.add_argument("--resolution", type=int, help="H3 resolution, 7 to 10")
    layer.add_argument("--since", help="first day received (YYYY-MM-DD)")
    layer.add_argument("--until", help="last day received (YYYY-MM-DD)")
    layer.add_argument("--measure", default="value", help="value or balance (images)")
    layer.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user")
    layer.set_defaults(handler=cmd_layer)


def _day(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: {text!r} is not a date (YYYY-MM-DD).", 2) from None


def _one_of(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CliError(f"{option}: {value!r} is not one of {', '.join(allowed)}.", 2)
    return value


def cmd_layer(args: argparse.Namespace) -> int:
    _one_of("--kind", args.kind, KINDS)
    _one_of("--format", args.format, FORMATS)
    _one_of("--measure", args.measure, ("value", "balance"))
    since, until = _day("--since", args.since), _day("--until", args.until)
    out: Path = args.out
    if out.exists() and not args.force:
        raise CliError(f"{out} exists; pass --force to replace it.", 2)
    if not out.parent.is_dir():
        raise CliError(f"{out.parent} is not a folder.", 2)
    _setup_django()
    _ensure_migrated()
    from incity.accounts.audit import Origin
    from incity.exports.cli import _acting_user, _form_pk
    from incity.maps.layers.request import LayerParams, Reader
    from incity.maps.queries import published_layer

    user = _acting_user(args.as_user)
    form_pk = _form_pk(args.form)
    params = LayerParams(
        question=args.question,
        category=args.category,
        time=args.time,
        group=tuple(args.group),
        resolution=args.resolution,
        since=since,
        until=until,
    )
    layer = published_layer(user, form_pk, args.kind, params, Reader(user, Origin.cli()))
    if args.format == "geojson":
        content = json.dumps(layer, ensure_ascii=False, indent=1).encode("utf-8")
    else:
        content = _image(user, form_pk, layer, args.format, args.measure)
    _write_whole(out, content)
    disclosure = layer.get("disclosure", {})
    print(
        json.dumps(
            {
                "out": str(out),
                "features": len(layer.get("features", [])),
                "disclosure": disclosure,
            },
            ensure_ascii=False,
        )
    )
    return 0


def _image(
    user: Any, form_pk: int, layer: dict[str, Any], image_format: str, measure: str
) -> bytes:
    from incity.accounts.permissions import ProjectAction
    from incity.maps.render import render_layer
    from incity.places.geometry import project_area
    from incity.surveys.queries import get_form

    form = get_form(user, form_pk, ProjectAction.VIEW_PUBLISHED)
    return render_layer(
        layer,
        image_format=image_format,  # type: ignore[arg-type]
        area=project_area(form.project),
        measure=measure,
    )


def _write_whole(out: Path, content: bytes) -> None:
    """Write beside the target and rename: a failed run leaves no half-written file."""
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
