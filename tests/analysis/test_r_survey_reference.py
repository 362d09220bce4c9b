"""`incity stats estimate` against R's `survey` package on the package's own examples.

R writes the California API samples that ship inside `survey` (apistrat, apiclus1,
apiclus2, apisrs) to CSV and computes, on the designs of the package's documentation
examples (`example(api)`, `example(surveysummary)`, `example(postStratify)`,
`example(rake)`), each estimate, its SE and two 95% intervals: `confint(x, df=degf(d))`
(Student's t on the design degrees of freedom, our interval) and R's default
`confint(x)` (normal). The same CSV then goes through the command line, and estimate,
SE and the t interval must agree to 1e-6 relative.

Not expressible: `dclus2 <- svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, ...)`, a
two-stage design with a finite population correction at both stages; incity takes one
stage of clusters (`--psu`), so only the package's with-replacement version
`dclus2wr` (whose variance uses the first stage alone) is compared.

Needs `Rscript` with `survey` (`make r-deps` installs Debian's r-cran-survey as root);
without them the tests skip and say why.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incity.cli import main

RELATIVE_TOLERANCE = 1e-6

DSTRAT = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)"
DCLUS1 = "svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)"
DCLUS2WR = "svydesign(id=~dnum+snum, weights=~pw, data=apiclus2)"
DSRS = "svydesign(id=~1, fpc=~fpc, data=apisrs)"
POP_TYPES = 'data.frame(stype=c("E","H","M"), Freq=c(4421,755,1018))'
POP_SCHWIDE = 'data.frame(sch.wide=c("No","Yes"), Freq=c(1072,5122))'
DCLUS1P = f"postStratify({DCLUS1}, ~stype, {POP_TYPES})"
# R's default rake stops once the weighted table moves by less than 1 (maxit 10);
# incity rakes to 1e-10, so the 1e-6 comparison raking runs R to convergence too.
RAKE_MARGINS = f"list(~stype, ~sch.wide), list({POP_TYPES}, {POP_SCHWIDE})"
DCLUS1R = f"rake({DCLUS1}, {RAKE_MARGINS})"
DCLUS1R_CONVERGED = f"rake({DCLUS1}, {RAKE_MARGINS}, control=list(maxit=1000, epsilon=1e-14))"

STRAT = ["--strata", "stype", "--weight", "pw", "--fpc", "fpc"]
CLUS1 = ["--psu", "dnum", "--weight", "pw", "--fpc", "fpc"]
CLUS2WR = ["--psu", "dnum", "--weight", "pw"]
SRS = ["--fpc", "fpc"]
POSTSTRATIFY = ["--poststratify", "stype=E:4421,H:755,M:1018"]
RAKE = ["--rake", "stype=E:4421,H:755,M:1018", "--rake", "sch.wide=No:1072,Yes:5122"]


@dataclass(frozen=True)
class Case:
    """One estimate: the R design and statistic, the coefficient to read, our arguments.

    `printed` is (estimate, SE) exactly as R prints them for the documented example
    (R 4.2.2, survey 4.1.1), or None where the example prints no such line.
    """

    name: str
    data: str
    r_design: str
    r_statistic: str
    coefficient: str
    column: str
    arguments: tuple[str, ...]
    printed: tuple[str, str] | None = None


CASES = [
    # example(api), example(svydesign): stratified sample.
    Case(
        "dstrat mean api00",
        "apistrat",
        DSTRAT,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *STRAT),
        ("662.29", "9.4089"),
    ),
    Case(
        "dstrat total enroll",
        "apistrat",
        DSTRAT,
        "svytotal(~enroll, D, na.rm=TRUE)",
        "enroll",
        "enroll",
        ("--total", "enroll", *STRAT),
        ("3687178", "114642"),
    ),
    # example(surveysummary): SE(svymean(~enroll, dstrat)) prints 18.50851.
    Case(
        "dstrat mean enroll",
        "apistrat",
        DSTRAT,
        "svymean(~enroll, D)",
        "enroll",
        "enroll",
        ("--mean", "enroll", *STRAT),
    ),
    # example(api), example(surveysummary): one-stage cluster sample.
    Case(
        "dclus1 mean api00",
        "apiclus1",
        DCLUS1,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *CLUS1),
        ("644.17", "23.542"),
    ),
    Case(
        "dclus1 total enroll",
        "apiclus1",
        DCLUS1,
        "svytotal(~enroll, D, na.rm=TRUE)",
        "enroll",
        "enroll",
        ("--total", "enroll", *CLUS1),
        ("3404940", "932235"),
    ),
    # example(surveysummary): svymean(~factor(stype), dclus1).
    *(
        Case(
            f"dclus1 proportion stype={level}",
            "apiclus1",
            DCLUS1,
            "svymean(~factor(stype), D)",
            f"factor(stype){level}",
            "stype",
            ("--proportion", f"stype={level}", *CLUS1),
            printed,
        )
        for level, printed in (
            ("E", ("0.786885", "0.0463")),
            ("H", ("0.076503", "0.0268")),
            ("M", ("0.136612", "0.0296")),
        )
    ),
    Case(
        "dclus1 proportion sch.wide=Yes",
        "apiclus1",
        DCLUS1,
        "svymean(~sch.wide, D)",
        "sch.wideYes",
        "sch.wide",
        ("--proportion", "sch.wide=Yes", *CLUS1),
    ),
    # example(api): two-stage sample analysed with replacement (first stage only).
    Case(
        "dclus2wr mean api00",
        "apiclus2",
        DCLUS2WR,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *CLUS2WR),
        ("670.81", "30.712"),
    ),
    Case(
        "dclus2wr total enroll",
        "apiclus2",
        DCLUS2WR,
        "svytotal(~enroll, D, na.rm=TRUE)",
        "enroll",
        "enroll",
        ("--total", "enroll", *CLUS2WR),
        ("2639273", "820261"),
    ),
    # A simple random sample with weights from the FPC (svydesign's N_h / n_h).
    Case(
        "dsrs mean api00",
        "apisrs",
        DSRS,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *SRS),
    ),
    # example(postStratify): dclus1 post-stratified on school type.
    Case(
        "dclus1p mean api00",
        "apiclus1",
        DCLUS1P,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *CLUS1, *POSTSTRATIFY),
        ("642.31", "23.921"),
    ),
    Case(
        "dclus1p total enroll",
        "apiclus1",
        DCLUS1P,
        "svytotal(~enroll, D)",
        "enroll",
        "enroll",
        ("--total", "enroll", *CLUS1, *POSTSTRATIFY),
        ("3680893", "406293"),
    ),
    Case(
        "dclus1p proportion sch.wide=Yes",
        "apiclus1",
        DCLUS1P,
        "svymean(~sch.wide, D)",
        "sch.wideYes",
        "sch.wide",
        ("--proportion", "sch.wide=Yes", *CLUS1, *POSTSTRATIFY),
    ),
    # example(rake): dclus1 raked to school type and sch.wide, R raking to convergence.
    Case(
        "dclus1r mean api00",
        "apiclus1",
        DCLUS1R_CONVERGED,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *CLUS1, *RAKE),
    ),
    Case(
        "dclus1r total enroll",
        "apiclus1",
        DCLUS1R_CONVERGED,
        "svytotal(~enroll, D)",
        "enroll",
        "enroll",
        ("--total", "enroll", *CLUS1, *RAKE),
    ),
    Case(
        "dclus1r proportion comp.imp=Yes",
        "apiclus1",
        DCLUS1R_CONVERGED,
        "svymean(~comp.imp, D)",
        "comp.impYes",
        "comp.imp",
        ("--proportion", "comp.imp=Yes", *CLUS1, *RAKE),
    ),
]

# example(rake) as documented, with R's default stopping rule: its printed figures.
PRINTED_RAKE = [
    Case(
        "dclus1r (R default rake) mean api00",
        "apiclus1",
        DCLUS1R,
        "svymean(~api00, D)",
        "api00",
        "api00",
        ("--mean", "api00", *CLUS1, *RAKE),
        ("641.23", "23.704"),
    ),
    Case(
        "dclus1r (R default rake) total enroll",
        "apiclus1",
        DCLUS1R,
        "svytotal(~enroll, D)",
        "enroll",
        "enroll",
        ("--total", "enroll", *CLUS1, *RAKE),
        ("3647300", "400603"),
    ),
]

# R writes the data and, for each case, one JSON object with every digit.
R_HEADER = r"""
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
if (!suppressMessages(requireNamespace("survey", quietly = TRUE))) {
  cat("the R package 'survey' is not installed\n", file = stderr())
  quit(status = 3)
}
suppressMessages(library(survey))
data(api)
for (name in c("apistrat", "apiclus1", "apiclus2", "apisrs")) {
  write.csv(get(name), file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "")
}
number <- function(x) sprintf("%.17g", x)
entry <- function(name, D, s, coefficient, column) {
  t_interval <- confint(s, df = degf(D))[coefficient, ]
  normal <- confint(s)[coefficient, ]
  fields <- c(
    estimate = coef(s)[[coefficient]], se = sqrt(diag(vcov(s)))[[coefficient]],
    ci_low = t_interval[[1]], ci_high = t_interval[[2]],
    normal_low = normal[[1]], normal_high = normal[[2]],
    df = degf(D), n = sum(!is.na(D$variables[[column]]))
  )
  body <- paste(sprintf('"%s": %s', names(fields), number(fields)), collapse = ", ")
  sprintf('"%s": {%s}', name, body)
}
results <- character(0)
"""

R_FOOTER = r"""
writeLines(paste0("{", paste(results, collapse = ",\n"), "}"), file.path(out, "reference.json"))
"""


def _r_script(cases: list[Case]) -> str:
    lines = [R_HEADER]
    for case in cases:
        lines.append(
            f"D <- {case.r_design}\n"
            f"s <- {case.r_statistic}\n"
            f'results <- c(results, entry("{case.name}", D, s, "{case.coefficient}", '
            f'"{case.column}"))\n'
        )
    lines.append(R_FOOTER)
    return "".join(lines)


@dataclass(frozen=True)
class Reference:
    directory: Path
    values: dict[str, dict[str, float]]


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not installed (`make r-deps` installs R and survey as root)")
    directory = tmp_path_factory.mktemp("r_survey")
    script = directory / "reference.R"
    script.write_text(_r_script(CASES + PRINTED_RAKE))
    run = subprocess.run(
        [rscript, "--vanilla", str(script), str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if run.returncode == 3:
        pytest.skip(f"R has no survey package: {run.stderr.strip()}")
    assert run.returncode == 0, run.stderr
    values = json.loads((directory / "reference.json").read_text())
    return Reference(directory=directory, values=values)


def _ours(reference: Reference, case: Case, capsys: pytest.CaptureFixture[str]) -> Any:
    csv = reference.directory / f"{case.data}.csv"
    status = main(["stats", "estimate", str(csv), *case.arguments])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def _close(ours: float, theirs: float, *, scale: float) -> bool:
    """Relative agreement; a value R gives as zero (a raked margin's SE) is judged
    against the size of the estimate instead."""
    return math.isclose(
        ours, theirs, rel_tol=RELATIVE_TOLERANCE, abs_tol=RELATIVE_TOLERANCE * scale
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_estimate_se_and_t_interval_match_r_survey(
    r_reference: Reference, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = r_reference.values[case.name]
    ours = _ours(r_reference, case, capsys)
    scale = abs(theirs["estimate"])
    for key in ("estimate", "se", "ci_low", "ci_high"):
        assert _close(ours[key], theirs[key], scale=scale), (key, ours[key], theirs[key])
    assert ours["design"]["df"] == theirs["df"]
    assert ours["n"] == theirs["n"]


def _printed_groups(cases: list[Case]) -> dict[str, list[Case]]:
    """Cases with printed figures, by the R table that prints them together."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        if case.printed is not None:
            groups.setdefault(case.r_design + case.r_statistic, []).append(case)
    return groups


PRINTED = _printed_groups(CASES)


@pytest.mark.parametrize("table", PRINTED.values(), ids=[t[0].name for t in PRINTED.values()])
def test_estimate_and_se_print_as_r_prints_the_documented_example(
    r_reference: Reference, table: list[Case], capsys: pytest.CaptureFixture[str]
) -> None:
    ours = [_ours(r_reference, case, capsys) for case in table]
    theirs = [r_reference.values[case.name] for case in table]
    printed = [case.printed for case in table]
    for index, key in enumerate(("estimate", "se")):
        expected = [p[index] for p in printed if p is not None]
        # The hard-coded figures are R's own values as R prints them, not remembered ones.
        assert _as_r_prints([t[key] for t in theirs], key) == expected
        assert _as_r_prints([o[key] for o in ours], key) == expected


@pytest.mark.parametrize("case", PRINTED_RAKE, ids=[c.name for c in PRINTED_RAKE])
def test_r_default_rake_prints_the_documented_figures_close_to_ours(
    r_reference: Reference, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    assert case.printed is not None
    ours = _ours(r_reference, case, capsys)
    theirs = r_reference.values[case.name]
    assert _as_r_prints([theirs["estimate"]], "estimate") == [case.printed[0]]
    assert _as_r_prints([theirs["se"]], "se") == [case.printed[1]]
    # R stops raking once the weighted stype x sch.wide table moves by less than 1
    # (of 6194); its weights are then within about 1e-5 of the converged ones.
    for key in ("estimate", "se"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


def test_the_interval_is_r_confint_on_design_df_not_r_default_normal(
    r_reference: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    # example(surveysummary): confint(svymean(~api00, dclus1), df=degf(dclus1)) prints
    # 593.6763 694.6625; the default confint (normal) prints 598.0275 690.3113.
    case = next(c for c in CASES if c.name == "dclus1 mean api00")
    ours = _ours(r_reference, case, capsys)
    theirs = r_reference.values[case.name]
    assert [f"{ours['ci_low']:.4f}", f"{ours['ci_high']:.4f}"] == ["593.6763", "694.6625"]
    assert [f"{theirs['normal_low']:.4f}", f"{theirs['normal_high']:.4f}"] == [
        "598.0275",
        "690.3113",
    ]
    assert not _close(ours["ci_low"], theirs["normal_low"], scale=1.0)


def _as_r_prints(values: list[float], column: str) -> list[str]:
    """A column of `print(svymean(...))` as R writes it (survey's print uses printCoefmat,
    digits 5): estimates rounded to 5 - (1 + floor(log10(smallest))) decimals, at least
    one; SEs, printed as printCoefmat's statistic column, rounded to 4 decimals; then
    `format(digits=5)`: as many decimals as the element needing most to show 5
    significant digits (trailing zeros dropped)."""
    if column == "estimate":
        smallest = min(abs(v) for v in values if v != 0)
        rounded = [round(v, max(1, 5 - (1 + math.floor(math.log10(smallest))))) for v in values]
    else:
        rounded = [round(v, 4) for v in values]
    decimals = max(_decimals_for_5_significant(v) for v in rounded)
    return [f"{v:.{decimals}f}" for v in rounded]


def _decimals_for_5_significant(value: float) -> int:
    if value == 0:
        return 0
    five = float(f"{value:.4e}")
    for digits in range(1, 6):
        if float(f"{value:.{digits - 1}e}") == five:
            break
    return max(0, digits - 1 - math.floor(math.log10(abs(five))))
