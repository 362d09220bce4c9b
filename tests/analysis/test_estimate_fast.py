"""The vectorised estimates equal svy's, design by design, and the engine uses them.

Each case draws a small random survey (with or without strata, PSUs, FPC, groups
including a one-row group, missing answers) and compares the fast path with svy's
own answer through the engine's svy route. Agreement is required to 1e-9 relative:
both sides sum the same terms in a different order, which moves the last few of
the 16 digits, never the ninth.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from incity.analysis.estimation import Adjustment, Design, Margin, Target, engine, estimate
from incity.analysis.estimation.fast import fast_estimates
from incity.analysis.estimation.prepare import prepare

RELATIVE = 1e-9
SEX = {"f": 520.0, "m": 480.0}
AGE = {"young": 300.0, "mid": 450.0, "old": 250.0}
TENURE = {"own": 400.0, "rent": 600.0}


def _survey(rng: np.random.Generator, rows: int, *, missing: bool) -> pl.DataFrame:
    answers = rng.choice(["yes", "no"], rows, p=[0.6, 0.4]).astype(object)
    income = rng.gamma(2.0, 900.0, rows)
    if missing:
        gaps = rng.random(rows) < 0.1
        gaps[0] = False  # the one-row group keeps its answer
        answers[gaps] = None
        income = np.where(gaps, np.nan, income)
    area = rng.choice(["north", "south", "east"], rows).astype(object)
    area[0] = "tiny"  # a group with one row
    stratum = rng.choice(["s1", "s2", "s3"], rows)
    return pl.DataFrame(
        {
            "answer": list(answers),
            "income": pl.Series(income).fill_nan(None),
            "area": list(area),
            "stratum": stratum,
            # Cluster codes restart in every stratum (nested), several per stratum.
            "cluster": rng.integers(0, 5, rows).astype(str),
            "w": rng.uniform(0.5, 4.0, rows),
            "pop": np.full(rows, 100.0),
            "sex": rng.choice(list(SEX), rows),
            "age": rng.choice(list(AGE), rows, p=[0.2, 0.5, 0.3]),
            "tenure": rng.choice(list(TENURE), rows),
        }
    )


def _cases() -> list[tuple[int, Target, Design, Adjustment, str | None, bool]]:
    targets = [
        Target("proportion", "answer", "yes"),
        Target("mean", "income"),
        Target("total", "income"),
    ]
    designs = [
        Design(weight="w"),
        Design(),
        Design(weight="w", psu="cluster"),
        Design(weight="w", strata="stratum"),
        Design(weight="w", psu="cluster", strata="stratum"),
        Design(psu="cluster", strata="stratum", fpc="pop"),
        Design(weight="w", strata="stratum", fpc="pop"),
    ]
    adjustments = [
        Adjustment.none(),
        Adjustment("poststratify", (Margin("age", AGE),)),
        Adjustment("rake", (Margin("sex", SEX), Margin("age", AGE))),
        Adjustment("rake", (Margin("sex", SEX), Margin("age", AGE), Margin("tenure", TENURE))),
    ]
    cases = []
    seed = 0
    for design in designs:
        for adjustment in adjustments:
            for by in (None, "area"):
                seed += 1
                target = targets[seed % len(targets)]
                cases.append((seed, target, design, adjustment, by, seed % 3 == 0))
    return cases


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12 * max(1.0, abs(b)))


@pytest.mark.parametrize(
    ("seed", "target", "design", "adjustment", "by", "missing"),
    _cases(),
    ids=lambda v: str(v) if isinstance(v, (int, str, bool)) else None,
)
def test_fast_path_equals_svy(
    seed: int,
    target: Target,
    design: Design,
    adjustment: Adjustment,
    by: str | None,
    missing: bool,
) -> None:
    rng = np.random.default_rng(seed)
    frame = _survey(rng, int(rng.integers(60, 140)), missing=missing)
    prepared = prepare(frame, target=target, design=design, adjustment=adjustment, by=by)
    sample = engine._calibrated(engine._sample(prepared), adjustment)
    reference = engine._estimates(sample, prepared, target, by)

    fast = fast_estimates(
        prepared,
        target=target,
        adjustment=adjustment,
        by=by,
        rake_tolerance=engine.RAKE_TOLERANCE,
        rake_max_iterations=engine.RAKE_MAX_ITERATIONS,
    )

    assert fast is not None
    assert fast.groups == [r.group for r in reference]
    for value, se, expected in zip(fast.estimates, fast.ses, reference):
        assert _close(value, expected.estimate), (value, expected.estimate)
        assert _close(se, expected.se), (se, expected.se)
    assert _close(fast.sum_of_weights, float(sample.data[sample.design.wgt].sum()))


def test_one_row_group_has_its_own_estimate() -> None:
    frame = _survey(np.random.default_rng(7), 80, missing=False)
    report = estimate(frame, target=Target("mean", "income"), design=Design(weight="w"), by="area")
    tiny = next(g for g in report.groups if g.group == "tiny")
    assert tiny.n == 1
    assert tiny.estimate == pytest.approx(float(frame["income"][0]))


def test_engine_uses_the_fast_path_when_it_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_svy(*args: object, **kwargs: object) -> None:
        raise AssertionError("svy was asked although the fast path covers this case")

    monkeypatch.setattr(engine, "_sample", no_svy)
    frame = _survey(np.random.default_rng(3), 100, missing=True)
    report = estimate(
        frame,
        target=Target("proportion", "answer", "yes"),
        design=Design(weight="w", psu="cluster", strata="stratum"),
        adjustment=Adjustment("rake", (Margin("sex", SEX), Margin("age", AGE))),
        by="area",
    )
    assert [g.group for g in report.groups] == ["east", "north", "south", "tiny"]
    assert report.design["sum_of_weights"] == pytest.approx(1000.0)


def test_a_domain_without_answers_goes_to_svy(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _survey(np.random.default_rng(4), 80, missing=False).with_columns(
        pl.when(pl.col("area") == "tiny").then(None).otherwise(pl.col("income")).alias("income")
    )
    prepared = prepare(
        frame,
        target=Target("mean", "income"),
        design=Design(weight="w"),
        adjustment=Adjustment.none(),
        by="area",
    )
    assert (
        fast_estimates(
            prepared,
            target=Target("mean", "income"),
            adjustment=Adjustment.none(),
            by="area",
            rake_tolerance=engine.RAKE_TOLERANCE,
            rake_max_iterations=engine.RAKE_MAX_ITERATIONS,
        )
        is None
    )


def test_raking_that_cannot_converge_is_left_to_svy_and_refused() -> None:
    frame = _survey(np.random.default_rng(5), 80, missing=False)
    prepared = prepare(
        frame,
        target=Target("mean", "income"),
        design=Design(weight="w"),
        adjustment=Adjustment("rake", (Margin("sex", SEX), Margin("age", AGE))),
    )
    assert (
        fast_estimates(
            prepared,
            target=Target("mean", "income"),
            adjustment=Adjustment("rake", (Margin("sex", SEX), Margin("age", AGE))),
            by=None,
            rake_tolerance=1e-14,
            rake_max_iterations=1,
        )
        is None
    )
