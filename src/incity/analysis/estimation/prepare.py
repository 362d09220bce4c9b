"""Checks a table against a target, design and adjustment, and builds the columns svy reads.

Every refusal names the column and, where one row is at fault, the row, so that a
person can open the file and fix it. Nothing here estimates anything.

A million-row table must be checked in a fraction of a second, so no check looks
at rows one by one: a categorical column is dictionary-encoded once (Arrow's hash
encoder), its few distinct values are cleaned and checked, and the rows only ever
carry integer codes into the sorted labels. The row that a refusal names is found
only once a check has failed. The vectorised estimator reads the codes directly;
the text table svy needs is built only when svy is asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from incity.analysis.estimation.spec import Adjustment, Design, Margin, Target
from incity.errors import InvalidInput

RowLabel = Callable[[int], str]
Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int64]

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
class Coded:
    """A categorical column as codes 0..k-1 into its labels, which are sorted."""

    codes: Codes
    labels: list[str]

    def text(self) -> pl.Series:
        return pl.Series(self.labels, dtype=pl.String).gather(pl.Series(self.codes))


@dataclass(frozen=True)
class Prepared:
    """The validated columns plus the facts about the design the report states.

    `y` is NaN where a row gives no answer; `units` numbers the PSUs (nested in
    their strata, in label order) and is None without PSUs; `margins` is keyed by
    `margin_column`.
    """

    y: Floats
    weights: Floats
    stratum: Coded
    units: Codes | None
    psu_labels: Coded | None
    group: Coded | None
    margins: dict[str, Coded]
    population: Floats | None
    has_psu: bool
    has_strata: bool
    fpc_applied: bool
    weights_from: str
    n_psu: int
    n_strata: int

    @property
    def degrees_of_freedom(self) -> int:
        return self.n_psu - self.n_strata

    @cached_property
    def frame(self) -> pl.DataFrame:
        """The table in the columns and labels svy reads (built only when svy is asked)."""
        columns: dict[str, pl.Series] = {
            Y: pl.Series(self.y, dtype=pl.Float64, nan_to_null=True),
            STRATUM: self.stratum.text(),
        }
        if self.psu_labels is not None:
            # PSU codes are read within their stratum (R's nest=TRUE).
            columns[PSU] = columns[STRATUM] + "\x1f" + self.psu_labels.text()
        if self.group is not None:
            columns[GROUP] = self.group.text()
        for name, coded in self.margins.items():
            columns[name] = coded.text()
        if self.population is not None:
            columns[POP_SIZE] = pl.Series(self.population, dtype=pl.Float64)
        columns[WEIGHT] = pl.Series(self.weights, dtype=pl.Float64)
        return pl.DataFrame([s.alias(name) for name, s in columns.items()])

    def answered_counts(self) -> dict[str | None, int]:
        """Rows with an answer, per group label (one None entry without groups)."""
        answered = ~np.isnan(self.y)
        if self.group is None:
            return {None: int(answered.sum())}
        counts = np.bincount(self.group.codes[answered], minlength=len(self.group.labels))
        return {label: int(n) for label, n in zip(self.group.labels, counts, strict=True) if n}


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

    y = _target_values(frame, target, row_label)
    if design.strata is not None:
        stratum = _labels(frame, design.strata, row_label)
    else:
        stratum = Coded(np.zeros(frame.height, dtype=np.int64), ["all"])
    psu_labels = _labels(frame, design.psu, row_label) if design.psu is not None else None
    group = _labels(frame, by, row_label, missing=NO_ANSWER) if by is not None else None
    margins = {
        _margin_column(margin): _labels(frame, margin.variable, row_label)
        for margin in adjustment.margins
    }

    n_strata = len(stratum.labels)
    units = _nested_units(stratum, psu_labels) if psu_labels is not None else None
    psus_per_stratum = _units_per_stratum(stratum, units)
    _refuse_lonely_psus(psus_per_stratum, stratum, design)

    population = None
    if design.fpc is not None:
        population = _population_sizes(frame, stratum, design.fpc, psus_per_stratum, row_label)
    weights, weights_from = _weights(
        frame, stratum, population, psus_per_stratum, design, row_label
    )
    _check_margins(margins, adjustment, row_label)

    prepared = Prepared(
        y=y,
        weights=weights,
        stratum=stratum,
        units=units,
        psu_labels=psu_labels,
        group=group,
        margins=margins,
        population=population,
        has_psu=design.psu is not None,
        has_strata=design.strata is not None,
        fpc_applied=population is not None,
        weights_from=weights_from,
        n_psu=int(psus_per_stratum.sum()),
        n_strata=n_strata,
    )
    if prepared.degrees_of_freedom < 1:
        raise InvalidInput(
            "data",
            "The design has no degrees of freedom left (it needs more PSUs than strata); "
            "there is no standard error to estimate.",
        )
    return prepared


def _nested_units(stratum: Coded, psu: Coded) -> Codes:
    """PSU numbers within strata (R's nest=TRUE: clusters are numbered afresh in each
    stratum), ordered by stratum label, then PSU label."""
    pairs = stratum.codes * len(psu.labels) + psu.codes
    n_pairs = len(stratum.labels) * len(psu.labels)
    if n_pairs <= 4 * len(pairs) + 1024:
        present = np.zeros(n_pairs, dtype=np.int64)
        present[pairs] = 1
        numbering = np.cumsum(present) - 1
        units: Codes = numbering[pairs]
        return units
    _, inverse = np.unique(pairs, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1)


def _units_per_stratum(stratum: Coded, units: Codes | None) -> Codes:
    """Sampled PSUs per stratum code; without PSUs every row is its own."""
    n_strata = len(stratum.labels)
    if units is None:
        return np.bincount(stratum.codes, minlength=n_strata).astype(np.int64)
    unit_stratum = np.zeros(int(units.max()) + 1, dtype=np.int64)
    unit_stratum[units] = stratum.codes
    return np.bincount(unit_stratum, minlength=n_strata).astype(np.int64)


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
) -> Coded:
    """A categorical column, trimmed, as codes; a blank is refused unless `missing` names it."""
    raw_codes, distinct = _dictionary(frame[column])
    cleaned = distinct.str.strip_chars()
    blank = (cleaned.is_null() | (cleaned == "")).to_list()
    if any(blank) and missing is None:
        blank_rows = np.asarray(blank, dtype=np.bool_)[raw_codes]
        index = int(np.argmax(blank_rows))
        raise InvalidInput(
            column,
            f"Column {column!r} is empty on {row_label(index)}; every row needs a value.",
            column=column,
        )
    # Values that differ only in surrounding spaces are one label.
    fill = missing if missing is not None else ""
    entry_labels = [
        fill if is_blank else str(value)
        for value, is_blank in zip(cleaned.to_list(), blank, strict=True)
    ]
    labels = sorted(set(entry_labels))
    position = {label: index for index, label in enumerate(labels)}
    recode = np.array([position[label] for label in entry_labels], dtype=np.int64)
    codes: Codes = recode[raw_codes]
    return Coded(codes, labels)


def _dictionary(values: pl.Series) -> tuple[Codes, pl.Series]:
    """Each row's index into the column's distinct values (as text, a null last)."""
    text = values if values.dtype == pl.String else values.cast(pl.String)
    # Arrow's string view is polars' own layout, so handing it over copies nothing.
    array = text.to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    encoded = pc.dictionary_encode(array)
    distinct = pl.Series(encoded.dictionary, dtype=pl.String)
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(distinct))
        distinct = distinct.append(pl.Series([None], dtype=pl.String))
    codes: Codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, distinct


def _numbers(frame: pl.DataFrame, column: str, row_label: RowLabel) -> pl.Series:
    """A numeric column as floats, blanks as missing; text or infinities are refused by row."""
    raw = frame[column]
    if raw.dtype.is_numeric():
        values = raw.cast(pl.Float64)
        text = None
        bad = values.is_nan() | values.is_infinite()
    else:
        text = raw.cast(pl.String).str.strip_chars()
        values = text.cast(pl.Float64, strict=False)
        bad = (values.is_null() & text.is_not_null() & (text != "")) | ~values.is_finite()
    if bad.any():
        index = int(bad.arg_true()[0])
        shown = text[index] if text is not None else raw[index : index + 1].cast(pl.String)[0]
        raise InvalidInput(
            column,
            f"Column {column!r} needs numbers, but has {shown!r} on {row_label(index)}.",
            column=column,
            row=row_label(index),
        )
    return values


def _target_values(frame: pl.DataFrame, target: Target, row_label: RowLabel) -> Floats:
    """The analysis variable, NaN where blank: blanks fall outside the domain, as na.rm=TRUE."""
    if target.kind == "proportion":
        coded = _labels(frame, target.column, row_label, missing="")
        present = [label for label in coded.labels if label != ""]
        if target.level not in present:
            seen = ", ".join(present[:15]) or "none"
            raise InvalidInput(
                target.column,
                f"Level {target.level!r} does not occur in column {target.column!r} (its values: {seen}).",
                column=target.column,
            )
        indicator = (coded.codes == coded.labels.index(target.level)).astype(np.float64)
        if "" in coded.labels:
            indicator[coded.codes == coded.labels.index("")] = np.nan
        return indicator
    values = _numbers(frame, target.column, row_label)
    if values.is_null().all():
        raise InvalidInput(
            target.column, f"Column {target.column!r} has no values.", column=target.column
        )
    numbers: Floats = values.to_numpy().astype(np.float64)
    return numbers


def _refuse_lonely_psus(psus_per_stratum: Codes, stratum: Coded, design: Design) -> None:
    lonely = np.flatnonzero(psus_per_stratum < 2)
    if lonely.size and (design.psu is not None or design.strata is not None):
        label = stratum.labels[int(lonely[0])]
        where = f"Stratum {label!r} (column {design.strata!r})" if design.strata else "The sample"
        raise InvalidInput(
            design.strata or design.psu or "data",
            f"{where} has only one PSU, so its variance cannot be estimated; merge it with "
            "a similar stratum.",
        )


def _population_sizes(
    frame: pl.DataFrame,
    stratum: Coded,
    column: str,
    psus_per_stratum: Codes,
    row_label: RowLabel,
) -> Floats:
    """Population size per row (in PSUs); sampling fractions become sizes as in R's svydesign."""
    series = _numbers(frame, column, row_label)
    _refuse_missing_or_non_positive(series, column, row_label, what="population size or fraction")
    values = series.to_numpy().astype(np.float64)
    lowest = np.full(len(stratum.labels), np.inf)
    highest = np.full(len(stratum.labels), -np.inf)
    np.minimum.at(lowest, stratum.codes, values)
    np.maximum.at(highest, stratum.codes, values)
    differs = lowest != highest
    if differs.any():
        varying = int(np.argmax(differs))
        raise InvalidInput(
            column,
            f"Column {column!r} must be the same on every row of a stratum; it varies in "
            f"stratum {stratum.labels[varying]!r}.",
            column=column,
        )
    is_fraction = bool((values <= 1).all())
    if not is_fraction and bool((values < 1).any()):
        raise InvalidInput(
            column,
            f"Column {column!r} mixes sampling fractions (at most 1) with population sizes.",
            column=column,
        )
    sampled = psus_per_stratum[stratum.codes].astype(np.float64)
    sizes: Floats = sampled / values if is_fraction else values
    short = sizes < sampled - 1e-9
    if short.any():
        index = int(np.argmax(short))
        raise InvalidInput(
            column,
            f"Column {column!r} gives a population of {sizes[index]:g} on {row_label(index)}, "
            f"smaller than the {int(sampled[index])} sampled units of its stratum.",
            column=column,
        )
    return sizes


def _weights(
    frame: pl.DataFrame,
    stratum: Coded,
    population: Floats | None,
    psus_per_stratum: Codes,
    design: Design,
    row_label: RowLabel,
) -> tuple[Floats, str]:
    if design.weight is not None:
        values = _numbers(frame, design.weight, row_label)
        _refuse_missing_or_non_positive(values, design.weight, row_label, what="weight")
        weights: Floats = values.to_numpy().astype(np.float64)
        return weights, design.weight
    if population is not None:
        # As svydesign without weights: equal probability within a stratum, N_h / n_h.
        return population / psus_per_stratum[stratum.codes].astype(np.float64), "fpc"
    return np.ones(frame.height, dtype=np.float64), "equal"


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


def _check_margins(margins: dict[str, Coded], adjustment: Adjustment, row_label: RowLabel) -> None:
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
        _check_margin_covers_sample(margins[_margin_column(margin)], margin, row_label)
    first = adjustment.margins[0]
    for margin in adjustment.margins[1:]:
        if not math.isclose(margin.grand_total, first.grand_total, rel_tol=GRAND_TOTAL_TOLERANCE):
            raise InvalidInput(
                "margins",
                f"The margins do not describe the same population: {first.variable!r} sums to "
                f"{first.grand_total:g} but {margin.variable!r} sums to {margin.grand_total:g}.",
            )


def _check_margin_covers_sample(observed: Coded, margin: Margin, row_label: RowLabel) -> None:
    if not margin.totals:
        raise InvalidInput(margin.variable, f"The margin for {margin.variable!r} has no levels.")
    for level, total in margin.totals.items():
        if not math.isfinite(total) or total <= 0:
            raise InvalidInput(
                margin.variable,
                f"The margin for {margin.variable!r} gives {level!r} the total {total:g}; "
                "totals must be positive.",
            )
    uncovered = np.array([label not in margin.totals for label in observed.labels], dtype=np.bool_)
    if uncovered.any():
        index = int(np.argmax(uncovered[observed.codes]))
        raise InvalidInput(
            margin.variable,
            f"The margin for {margin.variable!r} does not cover the sample: level "
            f"{observed.labels[observed.codes[index]]!r} ({row_label(index)}) has no population "
            "total.",
            column=margin.variable,
        )
    present = set(observed.labels)
    empty = [level for level in margin.totals if level not in present]
    if empty:
        raise InvalidInput(
            margin.variable,
            f"The margin for {margin.variable!r} gives a total for {empty[0]!r}, which no "
            "respondent has; weights cannot reach it (merge it with a neighbouring level).",
            column=margin.variable,
        )
