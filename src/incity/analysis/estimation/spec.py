"""What to estimate, under which design and which weight adjustment: the engine's inputs.

The command line and the HTTP API both build these; `parse_*` reads the command-line
syntax (`COL=LEVEL`, `COL=LEVEL:TOTAL,LEVEL:TOTAL`) with one clear message per mistake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from incity.errors import InvalidInput

TargetKind = Literal["mean", "proportion", "total"]
AdjustmentMethod = Literal["none", "rake", "poststratify"]


@dataclass(frozen=True)
class Target:
    """The quantity: the mean or total of a numeric column, or the share at one level."""

    kind: TargetKind
    column: str
    level: str | None = None

    def describe(self) -> str:
        if self.kind == "proportion":
            return f"proportion {self.column}={self.level}"
        return f"{self.kind} {self.column}"


@dataclass(frozen=True)
class Design:
    """Column names of the sampling design; any may be absent.

    `fpc` holds the population size of each stratum (in PSUs when there are PSUs) or,
    when every value is at most 1, the sampling fraction, as in R's `svydesign`.
    """

    weight: str | None = None
    psu: str | None = None
    strata: str | None = None
    fpc: str | None = None

    def columns(self) -> list[str]:
        return [c for c in (self.weight, self.psu, self.strata, self.fpc) if c is not None]


@dataclass(frozen=True)
class Margin:
    """Known population totals of one categorical variable, level by level."""

    variable: str
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def grand_total(self) -> float:
        return math.fsum(self.totals.values())


@dataclass(frozen=True)
class Adjustment:
    """How the weights are brought in line with population margins before estimating."""

    method: AdjustmentMethod = "none"
    margins: tuple[Margin, ...] = ()

    @classmethod
    def none(cls) -> Adjustment:
        return cls()


def parse_proportion(text: str) -> Target:
    """`COL=LEVEL` -> the proportion of rows whose COL equals LEVEL."""
    column, sep, level = text.partition("=")
    if not sep or not column.strip() or not level.strip():
        raise InvalidInput(
            "proportion",
            f"--proportion expects COL=LEVEL (for example tenure=owner), not {text!r}.",
        )
    return Target(kind="proportion", column=column.strip(), level=level.strip())


def parse_margin(text: str, *, option: str) -> Margin:
    """`COL=LEVEL:TOTAL,LEVEL:TOTAL` -> a margin; every total a positive number."""
    example = f"{option} sex=female:5200,male:4800"
    column, sep, body = text.partition("=")
    if not sep or not column.strip() or not body.strip():
        raise InvalidInput(
            option, f"{option} expects COL=LEVEL:TOTAL,... (for example {example}), not {text!r}."
        )
    totals: dict[str, float] = {}
    for item in body.split(","):
        level, colon, number = item.strip().rpartition(":")
        if not colon or not level.strip() or not number.strip():
            raise InvalidInput(
                option,
                f"{option} {column.strip()}: {item.strip()!r} is not LEVEL:TOTAL (for example {example}).",
            )
        level = level.strip()
        if level in totals:
            raise InvalidInput(
                option, f"{option} {column.strip()}: level {level!r} is given twice."
            )
        totals[level] = _positive_total(
            number.strip(), option=option, column=column.strip(), level=level
        )
    return Margin(variable=column.strip(), totals=totals)


def _positive_total(number: str, *, option: str, column: str, level: str) -> float:
    try:
        value = float(number)
    except ValueError:
        raise InvalidInput(
            option, f"{option} {column}: the total for {level!r} must be a number, not {number!r}."
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput(
            option,
            f"{option} {column}: the total for {level!r} must be a positive number, not {number}.",
        )
    return value
