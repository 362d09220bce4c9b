"""The dashboard's panels, each a `Chart` built from the analysis engines.

Every figure a role without `view_raw_data` sees passes the disclosure gate:
distributions and cross-tables come from the tables engine
(`analysis.tables.cross_table`, which protects them with their overlapping
tables); response counts go through `protect_cells`; a score or an estimate
is shown only when the count of people behind it would be published.
In `scope=raw` the figures are as they are; the tables engine and the
estimates engine audit their raw reads, and the view audits the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.analysis import scores
from incity.analysis.disclosure import TOTAL, protect_cells, protect_count
from incity.analysis.estimate_queries import EstimateRequest, Weighting, form_estimates
from incity.analysis.estimate_queries import Scope as EstimateScope
from incity.analysis.tables import TableRequest, cross_table
from incity.dashboards.charts import Chart, Series, Value
from incity.dashboards.queries import Filters, FormQuestions, Person, Question, meets
from incity.frameworks.models import FrameworkItem
from incity.surveys.models import Form

SYMBOLS = {"better": "▲", "worse": "▼", "no clear change": "●", "not comparable": "-"}
REASONS = {
    "primary": "fewer than {threshold}",
    "secondary": "hidden so that a count fewer than {threshold} cannot be worked out",
    "derived": "based on a count fewer than {threshold}",
}
# Beyond this many days the time chart counts weeks instead of days.
DAILY_LIMIT = 62


@dataclass(frozen=True)
class View:
    """What every panel needs: who asks, what, at which scope, with which filters."""

    user: User
    origin: Origin
    form: Form
    scope: str
    questions: FormQuestions
    filters: Filters

    @property
    def published(self) -> bool:
        return self.scope == "published"

    @property
    def threshold(self) -> int:
        return self.form.project.disclosure_threshold

    def hidden(self, reason: str | None) -> str:
        words = REASONS.get(reason or "primary", REASONS["primary"])
        return f"suppressed ({words.format(threshold=self.threshold)})"

    def notes(self) -> tuple[str, ...]:
        found = []
        if self.form.is_synthetic or self.form.project.is_synthetic:
            found.append("Synthetic data: invented answers, not a statistic about anyone.")
        if self.published:
            found.append(
                f"Published figures: counts below {self.threshold} and figures that would "
                "reveal them are suppressed."
            )
        else:
            found.append(
                "Raw figures: not for publication; this view is recorded in the audit log."
            )
        return tuple(found)


def _engine_notes(notes: Iterable[str]) -> list[str]:
    """The engine's notes but its synthetic label and suppression summary (the view says both)."""
    return [n for n in notes if not n.startswith(("Synthetic", "Counts below", "Estimates for"))]


def _count(
    view: View, count: int | None, reason: str | None, percent: float | None = None
) -> Value:
    if count is None:
        return Value(None, view.hidden(reason))
    text = str(count) if percent is None else f"{count} ({percent:.1f}%)"
    return Value(float(count), text)


# ----------------------------------------------------------------------- response counts


def _counts_chart(
    view: View, chart_id: str, title: str, header: str, counts: Mapping[str, int]
) -> Chart:
    values: list[Value] = []
    if view.published:
        protected = protect_cells(dict(counts), threshold=view.threshold)
        values = [
            _count(view, protected.entry(key).count, protected.entry(key).reason) for key in counts
        ]
        total = protected.entry(TOTAL)
        total_value = _count(view, total.count, total.reason)
    else:
        values = [_count(view, count, None) for count in counts.values()]
        total_value = _count(view, sum(counts.values()), None)
    return Chart(
        id=chart_id,
        title=title,
        category_header=header,
        categories=(*counts, "All"),
        series=(Series("responses", (*values, total_value)),),
        unit="responses",
        notes=view.notes(),
    )


def responses_over_time(view: View, people: Sequence[Person]) -> Chart:
    days = sorted(person.received_at.date() for person in people)
    weekly = bool(days) and (days[-1] - days[0]).days > DAILY_LIMIT
    counts: Counter[str] = Counter()
    for day in days:
        start = day - timedelta(days=day.weekday()) if weekly else day
        counts[f"week of {start.isoformat()}" if weekly else start.isoformat()] += 1
    period = "week" if weekly else "day"
    return _counts_chart(
        view, "responses-over-time", f"Responses per {period}", period, dict(sorted(counts.items()))
    )


def responses_by_collector(view: View, people: Sequence[Person]) -> Chart:
    counts = Counter(person.collector for person in people)
    return _counts_chart(
        view,
        "responses-by-collector",
        "Responses by collector",
        "collector",
        dict(sorted(counts.items())),
    )


# ------------------------------------------------------------------ tables of choices


def _table(view: View, rows: str, cols: str | None) -> dict[str, Any]:
    return cross_table(
        view.user,
        view.origin,
        view.form.pk,
        TableRequest(
            rows=rows,
            cols=cols,
            filters=view.filters.table_filters(view.questions),
            since=view.filters.since,
            until=view.filters.until,
            scope="raw" if view.scope == "raw" else "published",
        ),
    )


def distribution(view: View, question: Question) -> Chart:
    """How many people chose each answer (people with several choices count in each)."""
    body = _table(view, question.name, None)
    levels = body["rows"]["levels"]
    values = [
        _count(view, cell["count"], cell["suppressed"], cell["percent"]) for cell in body["cells"]
    ]
    everyone = body["totals"]["all"]
    return Chart(
        id=f"question-{question.name}",
        title=question.label,
        category_header="answer",
        categories=(*(level["label"] for level in levels), "All who answered"),
        series=(
            Series("people", (*values, _count(view, everyone["count"], everyone["suppressed"]))),
        ),
        unit="people",
        notes=(*view.notes(), *_engine_notes(body["notes"])),
    )


def crosstab(view: View, rows: Question, cols: Question) -> Chart:
    """People by two choice questions: a bar per answer of `cols` within each answer of `rows`."""
    body = _table(view, rows.name, cols.name)
    row_levels = [level["name"] for level in body["rows"]["levels"]]
    col_levels = body["cols"]["levels"]
    cells = {(cell["row"], cell["col"]): cell for cell in body["cells"]}
    totals = {cell["row"]: cell for cell in body["totals"]["rows"]}
    series = [
        Series(
            level["label"],
            tuple(
                _count(
                    view,
                    cells[(row, level["name"])]["count"],
                    cells[(row, level["name"])]["suppressed"],
                )
                for row in row_levels
            ),
        )
        for level in col_levels
    ]
    series.append(
        Series(
            "All",
            tuple(
                _count(view, totals[row]["count"], totals[row]["suppressed"]) for row in row_levels
            ),
        )
    )
    return Chart(
        id="crosstab",
        title=f"{rows.label} by {cols.label}",
        category_header=rows.label,
        categories=tuple(level["label"] for level in body["rows"]["levels"]),
        series=tuple(series),
        unit="people",
        notes=(*view.notes(), *_engine_notes(body["notes"])),
    )


# -------------------------------------------------------------------------- domain scores


def domain_labels(domains: Iterable[str]) -> dict[str, str]:
    """'framework:item' -> 'Framework name: item name' (the id itself when unknown)."""
    wanted = list(domains)
    found = {
        f"{framework}:{slug}": f"{name} ({framework_name})"
        for framework, slug, name, framework_name in FrameworkItem.objects.filter(
            framework__slug__in={d.partition(":")[0] for d in wanted}
        ).values_list("framework__slug", "slug", "name", "framework__name")
    }
    return {domain: found.get(domain, domain) for domain in wanted}


def scored(form: Form) -> dict[str, scores.ScoredItem]:
    version = form.latest_version()
    return scores.scored_items(version.definition) if version is not None else {}


def _score_value(
    view: View, summary: scores.Summary, shown_n: int | None, reason: str | None
) -> Value:
    if shown_n is None or summary.mean is None:
        return Value(None, view.hidden(reason) if summary.n else "no answers")
    if summary.ci_low is None or summary.ci_high is None:
        return Value(summary.mean, f"{summary.mean:.1f} (n={summary.n}, no interval)")
    return Value(
        summary.mean,
        f"{summary.mean:.1f} ({summary.ci_low:.1f} to {summary.ci_high:.1f}; n={summary.n})",
        summary.ci_low,
        summary.ci_high,
    )


def _gated_n(view: View, n: int) -> tuple[int | None, str | None]:
    if not view.published:
        return n, None
    protected = protect_count(n, threshold=view.threshold)
    return protected.value, protected.reason


def domain_scores(view: View, people: Sequence[Person]) -> Chart | None:
    items = scored(view.form)
    if not items:
        return None
    in_view = [p.answers for p in people if meets(p, view.filters, view.questions)]
    summaries = scores.domain_scores(items, in_view)
    labels = domain_labels(summaries)
    values = []
    for summary in summaries.values():
        shown, reason = _gated_n(view, summary.n)
        values.append(_score_value(view, summary, shown, reason))
    return Chart(
        id="domain-scores",
        title="Domain scores (0-100, higher is more favourable to integration)",
        category_header="domain",
        categories=tuple(labels[d] for d in summaries),
        series=(Series("score", tuple(values)),),
        unit="score (0-100)",
        notes=(*view.notes(), "The line across each bar is the 95% interval."),
        maximum=100.0,
    )


def two_way(view: View, people: Sequence[Person]) -> Chart | None:
    """Newcomers beside long-standing residents, per domain (scores.two_way_groups)."""
    items = scored(view.form)
    split = scores.two_way_groups(set(view.questions.choice))
    if not items or split is None:
        return None
    groups: dict[str, list[Mapping[str, Any]]] = {name: [] for name in split.groups}
    everyone: list[Mapping[str, Any]] = []
    for person in people:
        if not meets(person, view.filters, view.questions):
            continue
        everyone.append(person.answers)
        label = scores.group_of(person.answers, split.groups)
        if label is not None:
            groups[label].append(person.answers)
    summaries = {label: scores.domain_scores(items, answers) for label, answers in groups.items()}
    overall = scores.domain_scores(items, everyone)
    labels = domain_labels(overall)
    columns: dict[str, list[Value]] = {label: [] for label in groups}
    for domain, whole in overall.items():
        counts = {label: summaries[label][domain].n for label in groups}
        # The people in neither group are a cell too: with the total published, hiding only
        # the two groups' small counts could leave the rest to be worked out.
        counts["others"] = whole.n - sum(counts.values())
        protected = protect_cells(counts, threshold=view.threshold) if view.published else None
        for label in groups:
            entry = protected.entry(label) if protected else None
            shown = entry.count if entry else counts[label]
            columns[label].append(
                _score_value(view, summaries[label][domain], shown, entry.reason if entry else None)
            )
    return Chart(
        id="two-way",
        title="Newcomers beside long-standing residents: domain scores (0-100)",
        category_header="domain",
        categories=tuple(labels[d] for d in overall),
        series=tuple(Series(label, tuple(values)) for label, values in columns.items()),
        unit="score (0-100)",
        notes=(*view.notes(), split.description),
        maximum=100.0,
    )


def change(
    view: View,
    earlier: Sequence[Mapping[str, Any]],
    later: Sequence[Mapping[str, Any]],
    wave_names: tuple[str, str],
    items: Mapping[str, scores.ScoredItem],
) -> Chart:
    """Domain scores in two waves and the change, in words and symbol."""
    first = scores.domain_scores(items, earlier)
    second = scores.domain_scores(items, later)
    domains = [d for d in first if d in second]
    labels = domain_labels(domains)
    columns: tuple[list[Value], list[Value], list[Value]] = ([], [], [])
    for domain in domains:
        a_shown, a_reason = _gated_n(view, first[domain].n)
        b_shown, b_reason = _gated_n(view, second[domain].n)
        columns[0].append(_score_value(view, first[domain], a_shown, a_reason))
        columns[1].append(_score_value(view, second[domain], b_shown, b_reason))
        if a_shown is None or b_shown is None:
            columns[2].append(Value(None, view.hidden(a_reason or b_reason)))
            continue
        moved = scores.compare(first[domain], second[domain])
        symbol = SYMBOLS[moved.direction]
        if moved.difference is None or moved.ci_low is None or moved.ci_high is None:
            columns[2].append(Value(None, f"{symbol} {moved.direction}"))
        else:
            columns[2].append(
                Value(
                    None,
                    f"{symbol} {moved.direction}: {moved.difference:+.1f} "
                    f"({moved.ci_low:+.1f} to {moved.ci_high:+.1f})",
                )
            )
    return Chart(
        id="change",
        title=f"Change between waves: {wave_names[0]} to {wave_names[1]}",
        category_header="domain",
        categories=tuple(labels[d] for d in domains),
        series=(
            Series(wave_names[0], tuple(columns[0])),
            Series(wave_names[1], tuple(columns[1])),
            Series("change", tuple(columns[2])),
        ),
        unit="score (0-100)",
        notes=(
            *view.notes(),
            "▲ better or ▼ worse only when the 95% interval of the change excludes zero; "
            "otherwise ● no clear change. Integration can move backwards.",
        ),
        maximum=100.0,
    )


# -------------------------------------------------------------------- weighted estimates


def estimates(view: View, question: Question) -> Chart:
    """The share choosing each answer, raked to the project's margins, beside unweighted."""
    scope: EstimateScope = "raw" if view.scope == "raw" else "published"
    weighted: list[Value] = []
    plain: list[Value] = []
    notes: list[str] = []
    for level, _label in question.levels:
        runs: tuple[tuple[Weighting, list[Value]], ...] = (("rake", weighted), ("none", plain))
        for weights, column in runs:
            body = form_estimates(
                view.user,
                view.origin,
                view.form.pk,
                EstimateRequest(
                    proportion=f"{question.name}={level}", weights=weights, scope=scope
                ),
            )
            row = body["estimates"][0]
            notes = body["notes"]
            if row["estimate"] is None:
                column.append(Value(None, view.hidden(row["suppressed"])))
                continue
            low, high = 100 * row["ci_low"], 100 * row["ci_high"]
            column.append(
                Value(
                    100 * row["estimate"],
                    f"{100 * row['estimate']:.1f}% ({low:.1f} to {high:.1f}; SE {100 * row['se']:.1f})",
                    low,
                    high,
                )
            )
    return Chart(
        id=f"estimates-{question.name}",
        title=f"{question.label}: weighted to the population margins",
        category_header="answer",
        categories=tuple(label for _, label in question.levels),
        series=(Series("weighted (raked)", tuple(weighted)), Series("unweighted", tuple(plain))),
        unit="percent of respondents",
        notes=(
            *view.notes(),
            *_engine_notes(notes),
            "Estimates use every response (the page's filters do not apply to them).",
        ),
        maximum=100.0,
    )
