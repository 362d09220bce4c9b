"""Which panels a dashboard request asks for, checked, and each chart by its id (for downloads).

Query parameters (all optional): `scope` (published | raw), `since`, `until`
(days received, inclusive), `neighbourhood` (a level of the form's
neighbourhood question), `group` (QUESTION=LEVEL), `rows` and `cols` (the
cross-table; `cols=neighbourhood` means the neighbourhood question),
`estimate` (a single-choice question to weight), `section` (the form's
top-level group whose questions' distributions are shown; the first by default), and for the change between
waves either `compare_form` (a form with the same question names) or
`earlier_since`, `earlier_until`, `later_since`, `later_until`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.analysis.margins_queries import margins_of
from incity.dashboards import panels
from incity.dashboards.charts import Chart
from incity.dashboards.queries import (
    Filters,
    Person,
    dashboard_form,
    form_questions,
    meets,
    parse_date,
    parse_filters,
    people,
)
from incity.errors import InvalidInput, NotFound
from incity.surveys.models import Form

TWO_WAY_UNAVAILABLE = (
    "Newcomers beside long-standing residents needs the answers to nbh_years (time in the "
    "neighbourhood), or to bg_born_here and bg_arrival where they are not marked sensitive "
    "(sensitive answers never reach analysis); this form has neither."
)
FIXED_CHARTS = ("responses-over-time", "responses-by-collector", "domain-scores", "two-way")


@dataclass
class Board:
    view: panels.View
    params: Mapping[str, str]
    crowd: list[Person] = field(default_factory=list)

    @property
    def form(self) -> Form:
        return self.view.form


def open_board(user: User, origin: Origin, form_pk: int, params: Mapping[str, str]) -> Board:
    """The checked request: 404 for another tenant's form, 403 for raw without the right."""
    scope = params.get("scope") or "published"
    form = dashboard_form(user, form_pk, scope)
    questions = form_questions(form)
    filters = parse_filters(params, questions)
    view = panels.View(user, origin, form, scope, questions, filters)
    names = {
        *questions.choice,
        *questions.numbers,
    }
    board = Board(view, params, people(form, names))
    if scope == "raw":
        record(
            actor=user,
            origin=origin,
            kind=AuditKind.RAW_READ,
            action="dashboards.read",
            project=form.project,
            target=form,
            detail={"params": dict(params)},
        )
    return board


def in_view(board: Board) -> list[Person]:
    return [p for p in board.crowd if meets(p, board.view.filters, board.view.questions)]


def chart(board: Board, chart_id: str) -> Chart | None:
    """One chart by id (None when the form has nothing to show for it); unknown ids are 404."""
    view = board.view
    if chart_id == "responses-over-time":
        return panels.responses_over_time(view, in_view(board))
    if chart_id == "responses-by-collector":
        return panels.responses_by_collector(view, in_view(board))
    if chart_id == "domain-scores":
        return panels.domain_scores(view, board.crowd)
    if chart_id == "two-way":
        return panels.two_way(view, board.crowd)
    if chart_id == "crosstab":
        return crosstab(board)
    if chart_id == "change":
        return change(board)
    if chart_id == "estimates":
        return estimates(board)
    if chart_id.startswith("question-"):
        name = chart_id.removeprefix("question-")
        if name in view.questions.choice:
            return panels.distribution(view, view.questions.choice[name])
    raise NotFound(f"The dashboard has no chart '{chart_id}'.", chart=chart_id)


def crosstab(board: Board) -> Chart | None:
    rows, cols = board.params.get("rows"), board.params.get("cols")
    if not rows and not cols:
        return None
    if not rows or not cols:
        raise InvalidInput(
            "rows" if not rows else "cols",
            "A cross-table needs both rows and cols (two questions).",
        )
    questions = board.view.questions
    return panels.crosstab(
        board.view, questions.categorical(rows, "rows"), questions.categorical(cols, "cols")
    )


def estimate_question_name(board: Board) -> str | None:
    """The question to weight: `estimate`, else the first scored single choice the margins allow."""
    asked = board.params.get("estimate")
    if asked:
        return asked
    items = panels.scored(board.form)
    single = [
        n
        for n in items
        if n in board.view.questions.choice and not board.view.questions.choice[n].multiple
    ]
    return single[0] if single else None


def estimates(board: Board) -> Chart | None:
    if not margins_of(board.form.project):
        return None
    name = estimate_question_name(board)
    if name is None:
        return None
    question = board.view.questions.categorical(name, "estimate")
    if question.multiple:
        raise InvalidInput(
            "estimate", f"estimate: '{name}' is a multiple choice question; weight a single choice."
        )
    return panels.estimates(board.view, question)


def _wave(params: Mapping[str, str], prefix: str) -> tuple[date | None, date | None]:
    since = parse_date(params.get(f"{prefix}_since"), f"{prefix}_since")
    until = parse_date(params.get(f"{prefix}_until"), f"{prefix}_until")
    if since and until and until < since:
        raise InvalidInput(
            f"{prefix}_until", f"{prefix}_until: the end date is before {prefix}_since."
        )
    return since, until


def change(board: Board) -> Chart | None:
    """Two waves: this form beside `compare_form`, or two date ranges of this form."""
    params, view = board.params, board.view
    items = panels.scored(board.form)
    other_id = (params.get("compare_form") or "").strip()
    if other_id:
        if not other_id.isdigit():
            raise InvalidInput("compare_form", f"compare_form: '{other_id}' is not a form number.")
        other = dashboard_form(view.user, int(other_id), view.scope)
        if other.pk == board.form.pk:
            raise InvalidInput("compare_form", "compare_form: choose a form other than this one.")
        other_questions = form_questions(other)
        shared = {n: i for n, i in items.items() if n in panels.scored(other)}
        if not shared:
            raise InvalidInput(
                "compare_form",
                f"compare_form: '{other.title}' shares no scored question names with this form.",
            )
        filters = board.view.filters
        theirs = [
            p.answers
            for p in people(other, {*other_questions.choice, *other_questions.numbers})
            if meets(p, _portable(filters), other_questions)
        ]
        ours = [p.answers for p in in_view(board)]
        if view.scope == "raw":
            record(
                actor=view.user,
                origin=view.origin,
                kind=AuditKind.RAW_READ,
                action="dashboards.read",
                project=other.project,
                target=other,
                detail={"compared_with": board.form.pk},
            )
        return panels.change(view, theirs, ours, (other.title, board.form.title), shared)
    earlier, later = _wave(params, "earlier"), _wave(params, "later")
    if not any(earlier) and not any(later):
        return None
    if not any(earlier) or not any(later):
        raise InvalidInput(
            "earlier_since",
            "Give both waves: earlier_since/earlier_until and later_since/later_until.",
        )
    waves = []
    for since, until in (earlier, later):
        filters = replace(view.filters, since=since, until=until)
        waves.append([p.answers for p in board.crowd if meets(p, filters, view.questions)])
    names = (_range_name(*earlier), _range_name(*later))
    return panels.change(view, waves[0], waves[1], names, items)


def _portable(filters: Filters) -> Filters:
    """The filters applied to the other wave: its dates are its own, so only the choices."""
    return replace(filters, since=None, until=None)


def _range_name(since: date | None, until: date | None) -> str:
    return f"{since.isoformat() if since else 'start'} to {until.isoformat() if until else 'now'}"


def all_charts(board: Board) -> tuple[list[Chart], list[tuple[str, str]]]:
    """Every chart of the page, and for panels that could not be drawn, why (section, message)."""
    found: list[Chart] = []
    problems: list[tuple[str, str]] = []
    ids = [*FIXED_CHARTS, "crosstab", "change", "estimates"]
    questions = board.view.questions
    section = questions.section(board.params.get("section"))
    if section is not None:
        ids += [f"question-{name}" for name in questions.sections[section][1]]
    for chart_id in ids:
        try:
            drawn = chart(board, chart_id)
        except InvalidInput as error:
            # Margins that no longer fit the answers should not take the whole page down.
            if chart_id != "estimates" or error.field == "estimate":
                raise
            problems.append((chart_id, error.message))
            continue
        if drawn is not None:
            found.append(drawn)
        elif chart_id == "two-way" and panels.scored(board.form):
            problems.append((chart_id, TWO_WAY_UNAVAILABLE))
    return found, problems
