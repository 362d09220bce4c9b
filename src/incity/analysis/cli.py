"""`incity stats`: design-based estimates and spatial statistics on any CSV or GeoJSON."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    stats = commands.add_parser("stats", help="survey estimates and spatial statistics on a file")
    sub = stats.add_subparsers(dest="stats_command", metavar="ACTION", required=True)
    _add_estimate_commands(sub)
    _add_spatial_commands(sub)


def _add_estimate_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from incity.analysis.estimate_cli import add_commands

    add_commands(sub)


def _add_spatial_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from incity.analysis.spatial.cli import add_commands

    add_commands(sub)
