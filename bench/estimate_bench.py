"""Weighted estimate of a proportion by neighbourhood on 1,000,000 synthetic respondents.

incity: `incity.analysis.estimation.estimate`, raked to two margins, with collectors
as clusters: weighted share, Taylor SE with calibration and a t interval per
neighbourhood. The engine takes the vectorised path (`fast.py`); the same estimate
through svy (the engine's svy route, which the fast path must equal) is timed in the
same run, once, because it takes tens of seconds. Baseline: the same shares in plain
pandas, unweighted and without any standard error (what a spreadsheet would give).
All start from the same polars/pandas frame in memory; reading the data is not timed.
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

from bench.access_bench import Row
from incity.analysis.estimation import Adjustment, Design, Margin, Target, engine, estimate
from incity.analysis.estimation.prepare import prepare

ROWS = 1_000_000
NEIGHBOURHOODS = [f"n{i:02d}" for i in range(12)]


def _synthetic(rows: int = ROWS, seed: int = 2026) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "neighbourhood": rng.choice(NEIGHBOURHOODS, rows),
            "collector": rng.integers(0, 400, rows).astype(str),
            "sex": rng.choice(["female", "male"], rows, p=[0.55, 0.45]),
            "age": rng.choice(["16-34", "35-64", "65+"], rows, p=[0.3, 0.5, 0.2]),
            "feels_safe": rng.choice(["yes", "no"], rows, p=[0.62, 0.38]),
            "w": rng.uniform(0.5, 3.0, rows),
        }
    )


def _best_of(runs: int, work: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best * 1000


def run() -> list[Row]:
    frame = _synthetic()
    pandas_frame = frame.to_pandas()
    margins = (
        Margin("sex", {"female": 510_000.0, "male": 490_000.0}),
        Margin("age", {"16-34": 300_000.0, "35-64": 480_000.0, "65+": 220_000.0}),
    )

    proportion = Target("proportion", "feels_safe", "yes")
    raked = (Design(weight="w", psu="collector"), Adjustment("rake", margins))
    weights_only = (Design(weight="w"), Adjustment.none())

    def fast(design: Design, adjustment: Adjustment) -> None:
        estimate(frame, target=proportion, design=design, adjustment=adjustment, by="neighbourhood")

    def through_svy(design: Design, adjustment: Adjustment) -> None:
        prepared = prepare(
            frame, target=proportion, design=design, adjustment=adjustment, by="neighbourhood"
        )
        sample = engine._calibrated(engine._sample(prepared), adjustment)
        engine._estimates(sample, prepared, proportion, "neighbourhood")

    def pandas_naive() -> None:
        (pandas_frame["feels_safe"] == "yes").groupby(pandas_frame["neighbourhood"]).mean()

    naive = _best_of(3, pandas_naive)
    raked_name = "proportion by neighbourhood, 1,000,000 rows, raked to 2 margins, 400 clusters"
    plain_name = "proportion by neighbourhood, 1,000,000 rows, weights only"
    return [
        Row(
            f"{raked_name}: incity (fast path, SE + CI) vs pandas unweighted share",
            _best_of(3, lambda: fast(*raked)),
            naive,
        ),
        Row(
            f"{raked_name}: incity through svy (SE + CI) vs pandas unweighted share",
            _best_of(1, lambda: through_svy(*raked)),
            naive,
        ),
        Row(
            f"{plain_name}: incity (fast path, SE + CI) vs pandas unweighted share",
            _best_of(3, lambda: fast(*weights_only)),
            naive,
        ),
        Row(
            f"{plain_name}: incity through svy (SE + CI) vs pandas unweighted share",
            _best_of(1, lambda: through_svy(*weights_only)),
            naive,
        ),
    ]
