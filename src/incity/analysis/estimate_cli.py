"""`incity stats estimate FILE.csv ...`: design-based estimates on any CSV, printed as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from incity.analysis.estimation.spec import (
    Adjustment,
    Design,
    Margin,
    Target,
    parse_margin,
    parse_proportion,
)

EPILOG = """\
examples:
  incity stats estimate survey.csv --mean income --weight w --psu cluster --strata district
  incity stats estimate survey.csv --proportion tenure=owner --weight w \\
      --rake sex=female:5200,male:4800 --rake age=young:4000,old:6000
  incity stats estimate survey.csv --total persons --fpc N --strata district
"""


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "estimate",
        help="weighted mean, proportion or total with SE and 95%% interval",
        description=(
            "Design-based estimate from a CSV file (one row per respondent), with a Taylor-"
            "linearised standard error and a 95%% interval on the design degrees of freedom. "
            "Prints JSON."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="CSV file with a header row")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--mean", metavar="COL", help="mean of a numeric column")
    what.add_argument(
        "--proportion", metavar="COL=LEVEL", help="share of rows with COL equal to LEVEL"
    )
    what.add_argument("--total", metavar="COL", help="population total of a numeric column")
    parser.add_argument("--weight", metavar="COL", help="sampling weights (positive)")
    parser.add_argument("--psu", metavar="COL", help="primary sampling units (clusters)")
    parser.add_argument("--strata", metavar="COL", help="strata")
    parser.add_argument(
        "--fpc", metavar="COL", help="population size per stratum (in PSUs), or sampling fraction"
    )
    adjust = parser.add_mutually_exclusive_group()
    adjust.add_argument(
        "--rake",
        metavar="COL=LEVEL:TOTAL,...",
        action="append",
        help="rake the weights to this margin (repeat for each margin)",
    )
    adjust.add_argument(
        "--poststratify", metavar="COL=LEVEL:TOTAL,...", help="post-stratify to one margin"
    )
    parser.set_defaults(handler=cmd_estimate)


def cmd_estimate(args: argparse.Namespace) -> int:
    from incity.analysis.estimation import estimate

    target = _target(args)
    adjustment = _adjustment(args)
    frame = read_csv(args.file)
    report = estimate(
        frame,
        target=target,
        design=Design(weight=args.weight, psu=args.psu, strata=args.strata, fpc=args.fpc),
        adjustment=adjustment,
        row_label=lambda index: f"line {index + 2}",
    )
    overall = report.groups[0]
    output: dict[str, Any] = {**overall.as_dict(), "design": report.design}
    output["design"]["target"] = target.describe()
    sys.stdout.write(json.dumps(output, indent=2) + "\n")
    return 0


def _target(args: argparse.Namespace) -> Target:
    if args.proportion is not None:
        return parse_proportion(args.proportion)
    if args.mean is not None:
        return Target(kind="mean", column=args.mean)
    return Target(kind="total", column=args.total)


def _adjustment(args: argparse.Namespace) -> Adjustment:
    if args.rake:
        margins: tuple[Margin, ...] = tuple(parse_margin(m, option="--rake") for m in args.rake)
        return Adjustment(method="rake", margins=margins)
    if args.poststratify:
        return Adjustment(
            method="poststratify",
            margins=(parse_margin(args.poststratify, option="--poststratify"),),
        )
    return Adjustment.none()


def read_csv(path: Path) -> Any:
    """Every column as text, so that numbers are checked (and refused) row by row."""
    import polars as pl

    from incity.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput("file", f"There is no file {str(path)!r}.")
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.NoDataError:
        raise InvalidInput("file", f"{str(path)!r} is empty.") from None
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError) as error:
        message = str(error).splitlines()[0]
        raise InvalidInput("file", f"{str(path)!r} is not a readable CSV file: {message}") from None
    if frame.height == 0:
        raise InvalidInput("file", f"{str(path)!r} has a header but no data rows.")
    return frame
