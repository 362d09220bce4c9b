"""Checks a table against a target, design and adjustment, and builds the columns svy reads.

Every refusal names the column and, where one row is at fault, the row, so that a
person can open the file and fix it. Nothing here estimates anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from incity.analysis.estimation.spec import Adjustment, Design, Margin, Target
from incity.errors import InvalidInput

RowLabel = Callable[[int], str]

# Internal column names; svy reserves names starting "__svy".
Y = "incity_y"
WEIGHT = "incity_w"
PSU = "incity_psu"
STRATUM = "incity_stratum"
POP_SIZE = "incity_pop"
GROUP = "incity_group"
NO_ANSWER = "(no answer)"
# Rake margins must agree on the population; census tables rounded to whole people
# differ by a few units, so agreement is judged relative to the total.
GRAND_TOTAL_TOLERANCE = 1e-6


def default_row_label(index: int) -> str:
    return f"row {index + 1}"


@dataclass(frozen=True)
class Prepared:
    """The validated table plus the facts about the design the report states."""

    frame: pl.DataFrame
    has_psu: bool
    has_strata: bool
    fpc_applied: bool
    weights_from: str
    n_psu: int
    n_strata: int

    @property
    def degrees_of_freedom(self) -> int:
        return self.n_psu - self.n_strata


def prepare(
    frame: pl.DataFrame,
    *,
    target: Target,
    design: Design,
    adjustment: Adjustment,
    by: str | None = None,
    row_label: RowLabel = default_row_label,
) -> Prepared:
    if frame.height == 0:
        raise InvalidInput("data", "There are no data rows to estimate from.")
    needed = [target.column, *design.columns(), *(m.variable for m in adjustment.margins)]
    if by is not None:
        needed.append(by)
    _require_columns(frame, needed)

    columns: dict[str, pl.Series] = {Y: _target_values(frame, target, row_label)}
    if design.strata is not None:
        columns[STRATUM] = _labels(frame, design.strata, row_label)
    else:
        columns[STRATUM] = pl.repeat("all", frame.height, eager=True, dtype=pl.String)
    if design.psu is not None:
        # PSU codes are read within their stratum (R's nest=TRUE): surveys number their
        # clusters 1, 2, ... afresh in each stratum.
        columns[PSU] = columns[STRATUM] + "\x1f" + _labels(frame, design.psu, row_label)
    if by is not None:
        columns[GROUP] = _labels(frame, by, row_label, missing=NO_ANSWER)
    for margin in adjustment.margins:
        columns[_margin_column(margin)] = _labels(frame, margin.variable, row_label)

    table = pl.DataFrame([s.alias(name) for name, s in columns.items()])
    n_strata = table[STRATUM].n_unique()
    psus_per_stratum = _units_per_stratum(table)
    _refuse_lonely_psus(psus_per_stratum, design)

    fpc_applied = False
    if design.fpc is not None:
        table = table.with_columns(
            _population_sizes(frame, table, design.fpc, psus_per_stratum, row_label).alias(POP_SIZE)
        )
        fpc_applied = True
    weights, weights_from = _weights(frame, table, design, row_label)
    table = table.with_columns(weights.alias(WEIGHT))
    _check_margins(table, adjustment, row_label)

    prepared = Prepared(
        frame=table,
        has_psu=design.psu is not None,
        has_strata=design.strata is not None,
        fpc_applied=fpc_applied,
        weights_from=weights_from,
        n_psu=int(psus_per_stratum["psus"].sum()),
        n_strata=n_strata,
    )
    if prepared.degrees_of_freedom < 1:
        raise InvalidInput(
            "data",
            "The design has no degrees of freedom left (it needs more PSUs than strata); "
            "there is no standard error to estimate.",
        )
    return prepared


def _units_per_stratum(table: pl.DataFrame) -> pl.DataFrame:
    """Sampled PSUs per stratum; without PSUs every row is its own."""
    units = pl.col(PSU).n_unique() if PSU in table.columns else pl.len()
    return table.group_by(STRATUM).agg(units.cast(pl.Int64).alias("psus"))


def margin_column(margin: Margin) -> str:
    return _margin_column(margin)


def _margin_column(margin: Margin) -> str:
    return f"incity_margin_{margin.variable}"


def _require_columns(frame: pl.DataFrame, names: list[str]) -> None:
    present = set(frame.columns)
    for name in names:
        if name not in present:
            known = ", ".join(frame.columns[:20])
            raise InvalidInput(
                name, f"There is no column {name!r}; the columns are: {known}.", column=name
            )


def _labels(
    frame: pl.DataFrame, column: str, row_label: RowLabel, *, missing: str | None = None
) -> pl.Series:
    """A categorical column as text; a blank is refused unless `missing` names it."""
    values = frame[column].cast(pl.String).str.strip_chars()
    blank = values.is_null() | (values == "")
    if missing is not None:
        return values.set(blank, missing) if blank.any() else values
    if blank.any():
        index = int(blank.arg_true()[0])
        raise InvalidInput(
            column,
            f"Column {column!r} is empty on {row_label(index)}; every row needs a value.",
            column=column,
        )
    return values


def _numbers(frame: pl.DataFrame, column: str, row_label: RowLabel) -> pl.Series:
    """A numeric column as floats, blanks as missing; text or infinities are refused by row."""
    raw = frame[column]
    if raw.dtype.is_numeric():
        values = raw.cast(pl.Float64)
        text = raw.cast(pl.String)
    else:
        text = raw.cast(pl.String).str.strip_chars()
        text = text.set(text == "", None) if (text == "").any() else text
        values = text.cast(pl.Float64, strict=False)
    bad = (values.is_null() & text.is_not_null()) | values.is_nan() | values.is_infinite()
    if bad.any():
        index = int(bad.arg_true()[0])
        raise InvalidInput(
            column,
            f"Column {column!r} needs numbers, but has {text[index]!r} on {row_label(index)}.",
            column=column,
            row=row_label(index),
        )
    return values


def _target_values(frame: pl.DataFrame, target: Target, row_label: RowLabel) -> pl.Series:
    """The analysis variable; blanks stay missing and fall outside the domain, as na.rm=TRUE."""
    if target.kind == "proportion":
        labels = _labels(frame, target.column, row_label, missing="")
        present = labels.filter(labels != "")
        if target.level not in set(present.unique().to_list()):
            seen = ", ".join(sorted(present.unique().to_list())[:15]) or "none"
            raise InvalidInput(
                target.column,
                f"Level {target.level!r} does not occur in column {target.column!r} (its values: {seen}).",
                column=target.column,
            )
        indicator = (labels == target.level).cast(pl.Float64)
        return indicator.set(labels == "", None)
    values = _numbers(frame, target.column, row_label)
    if values.is_null().all():
        raise InvalidInput(
            target.column, f"Column {target.column!r} has no values.", column=target.column
        )
    return values


def _refuse_lonely_psus(psus_per_stratum: pl.DataFrame, design: Design) -> None:
    lonely = psus_per_stratum.filter(pl.col("psus") < 2)
    if lonely.height and (design.psu is not None or design.strata is not None):
        stratum = str(lonely[STRATUM][0])
        where = f"Stratum {stratum!r} (column {design.strata!r})" if design.strata else "The sample"
        raise InvalidInput(
            design.strata or design.psu or "data",
            f"{where} has only one PSU, so its variance cannot be estimated; merge it with "
            "a similar stratum.",
        )


def _population_sizes(
    frame: pl.DataFrame,
    table: pl.DataFrame,
    column: str,
    psus_per_stratum: pl.DataFrame,
    row_label: RowLabel,
) -> pl.Series:
    """Population size per row (in PSUs); sampling fractions become sizes as in R's svydesign."""
    values = _numbers(frame, column, row_label)
    _refuse_missing_or_non_positive(values, column, row_label, what="population size or fraction")
    per_row = table.select(STRATUM).with_columns(values.alias("fpc"))
    spread = per_row.group_by(STRATUM).agg(pl.col("fpc").n_unique().alias("k"))
    varying = spread.filter(pl.col("k") > 1)
    if varying.height:
        raise InvalidInput(
            column,
            f"Column {column!r} must be the same on every row of a stratum; it varies in "
            f"stratum {varying[STRATUM][0]!r}.",
            column=column,
        )
    is_fraction = bool((values <= 1).all())
    if not is_fraction and bool((values < 1).any()):
        raise InvalidInput(
            column,
            f"Column {column!r} mixes sampling fractions (at most 1) with population sizes.",
            column=column,
        )
    with_counts = per_row.join(psus_per_stratum, on=STRATUM, how="left")
    sizes = (
        with_counts["psus"].cast(pl.Float64) / with_counts["fpc"]
        if is_fraction
        else with_counts["fpc"]
    )
    short = sizes < with_counts["psus"].cast(pl.Float64) - 1e-9
    if short.any():
        index = int(short.arg_true()[0])
        raise InvalidInput(
            column,
            f"Column {column!r} gives a population of {sizes[index]:g} on {row_label(index)}, "
            f"smaller than the {with_counts['psus'][index]} sampled units of its stratum.",
            column=column,
        )
    return sizes


def _weights(
    frame: pl.DataFrame, table: pl.DataFrame, design: Design, row_label: RowLabel
) -> tuple[pl.Series, str]:
    if design.weight is not None:
        values = _numbers(frame, design.weight, row_label)
        _refuse_missing_or_non_positive(values, design.weight, row_label, what="weight")
        return values, design.weight
    if design.fpc is not None:
        # As svydesign without weights: equal probability within a stratum, N_h / n_h.
        counts = table.select(STRATUM, POP_SIZE).join(_units_per_stratum(table), on=STRATUM)
        return counts[POP_SIZE] / counts["psus"].cast(pl.Float64), "fpc"
    return pl.repeat(1.0, table.height, eager=True, dtype=pl.Float64), "equal"


def _refuse_missing_or_non_positive(
    values: pl.Series, column: str, row_label: RowLabel, *, what: str
) -> None:
    missing = values.is_null()
    if missing.any():
        index = int(missing.arg_true()[0])
        raise InvalidInput(
            column, f"Column {column!r} has no {what} on {row_label(index)}.", column=column
        )
    non_positive = values <= 0
    if non_positive.any():
        index = int(non_positive.arg_true()[0])
        raise InvalidInput(
            column,
            f"Column {column!r} has {what} {values[index]:g} on {row_label(index)}; "
            f"every {what} must be positive.",
            column=column,
            row=row_label(index),
        )


def _check_margins(table: pl.DataFrame, adjustment: Adjustment, row_label: RowLabel) -> None:
    if adjustment.method == "none":
        return
    if not adjustment.margins:
        raise InvalidInput(
            "margins", f"{adjustment.method} needs population margins; none were given."
        )
    if adjustment.method == "poststratify" and len(adjustment.margins) != 1:
        raise InvalidInput(
            "margins", "Post-stratification takes one margin; use raking for several."
        )
    variables = [m.variable for m in adjustment.margins]
    if len(set(variables)) != len(variables):
        raise InvalidInput("margins", "Each variable may have only one margin.")
    for margin in adjustment.margins:
        _check_margin_covers_sample(table, margin, row_label)
    first = adjustment.margins[0]
    for margin in adjustment.margins[1:]:
        if not math.isclose(margin.grand_total, first.grand_total, rel_tol=GRAND_TOTAL_TOLERANCE):
            raise InvalidInput(
                "margins",
                f"The margins do not describe the same population: {first.variable!r} sums to "
                f"{first.grand_total:g} but {margin.variable!r} sums to {margin.grand_total:g}.",
            )


def _check_margin_covers_sample(table: pl.DataFrame, margin: Margin, row_label: RowLabel) -> None:
    if not margin.totals:
        raise InvalidInput(margin.variable, f"The margin for {margin.variable!r} has no levels.")
    for level, total in margin.totals.items():
        if not math.isfinite(total) or total <= 0:
            raise InvalidInput(
                margin.variable,
                f"The margin for {margin.variable!r} gives {level!r} the total {total:g}; "
                "totals must be positive.",
            )
    observed = table[_margin_column(margin)]
    uncovered = ~observed.is_in(list(margin.totals))
    if uncovered.any():
        index = int(uncovered.arg_true()[0])
        raise InvalidInput(
            margin.variable,
            f"The margin for {margin.variable!r} does not cover the sample: level "
            f"{observed[index]!r} ({row_label(index)}) has no population total.",
            column=margin.variable,
        )
    present = set(observed.unique().to_list())
    empty = [level for level in margin.totals if level not in present]
    if empty:
        raise InvalidInput(
            margin.variable,
            f"The margin for {margin.variable!r} gives a total for {empty[0]!r}, which no "
            "respondent has; weights cannot reach it (merge it with a neighbouring level).",
            column=margin.variable,
        )
