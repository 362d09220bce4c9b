"""Dashboard pages of a form and of a project, and each chart's downloads (PNG, SVG, CSV)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.permissions import ProjectAction
from incity.analysis.disclosure import protect_cells
from incity.analysis.models import PopulationMargin
from incity.dashboards import board as boards
from incity.dashboards.charts import Chart, drawn, inline_svg
from incity.dashboards.queries import dashboard_form, form_questions
from incity.errors import IncityError, InvalidInput, NotFound
from incity.surveys.models import Form, Submission, SubmissionStatus
from incity.surveys.views.common import page
from incity.web.guards import signed_in_user

DOWNLOADS = {
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}
PARAMETERS = (
    "scope",
    "since",
    "until",
    "neighbourhood",
    "group",
    "rows",
    "cols",
    "estimate",
    "section",
    "compare_form",
    "earlier_since",
    "earlier_until",
    "later_since",
    "later_until",
)


def _params(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET[name] for name in PARAMETERS if request.GET.get(name, "").strip()}


def _refused(request: HttpRequest, error: IncityError) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"status": error.status, "message": error.message},
        status=error.status,
    )


def _panel(chart: Chart, query: str, form: Form) -> dict[str, Any]:
    return {
        "chart": chart,
        "svg": mark_safe(inline_svg(chart)),  # noqa: S308 (built from escaped text in charts.py)
        "header": chart.header(),
        "rows": chart.rows(),
        "query": query,
    }


@page
@require_GET
def form_dashboard(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    params = _params(request)
    # Tenant and role first (404/403), so a bad filter never tells an outsider anything.
    try:
        found = dashboard_form(user, form, params.get("scope", "published"))
    except InvalidInput as error:
        return _refused(request, error)
    query = request.GET.urlencode()
    context: dict[str, Any] = {
        "form": found,
        "params": params,
        "questions": form_questions(found),
        "raw_allowed": access.can_project(user, ProjectAction.VIEW_RAW_DATA, found.project),
        "threshold": found.project.disclosure_threshold,
        "query": query,
        "panels": [],
        "problems": [],
        "error": None,
    }
    try:
        board = boards.open_board(user, Origin.from_request(request), form, params)
        charts, problems = boards.all_charts(board)
    except NotFound:
        raise
    except IncityError as error:
        context["error"] = error.message
        return render(request, "dashboards/form.html", context, status=error.status)
    context["panels"] = [_panel(chart, query, found) for chart in charts]
    context["problems"] = problems
    return render(request, "dashboards/form.html", context)


@page
@require_GET
def chart_download(request: HttpRequest, form: int, chart: str, file_format: str) -> HttpResponse:
    user = signed_in_user(request)
    params = _params(request)
    try:
        found = dashboard_form(user, form, params.get("scope", "published"))
    except InvalidInput as error:
        return _refused(request, error)
    if file_format not in DOWNLOADS:
        raise NotFound(
            f"Charts download as csv, png or svg, not '{file_format}'.", format=file_format
        )
    try:
        board = boards.open_board(user, Origin.from_request(request), found.pk, params)
        result = boards.chart(board, chart)
    except NotFound:
        raise
    except IncityError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    if result is None:
        message = InvalidInput("chart", f"The chart '{chart}' has nothing to show for this form.")
        return HttpResponse(message.message, status=404, content_type="text/plain")
    body = result.csv().encode("utf-8") if file_format == "csv" else drawn(result, file_format)
    response = HttpResponse(body, content_type=DOWNLOADS[file_format])
    name = f"{found.form_id}-{result.id}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page
@require_GET
def project_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's forms with their (published) response counts, and its population margins."""
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.VIEW_PUBLISHED)
    forms = list(Form.objects.filter(project=project).exclude(versions=None).order_by("title"))
    counts = {
        str(form.pk): Submission.objects.filter(form=form)
        .exclude(status=SubmissionStatus.REJECTED)
        .count()
        for form in forms
    }
    protected = protect_cells(counts, threshold=project.disclosure_threshold) if counts else None
    rows = []
    for form in forms:
        entry = protected.entry(str(form.pk)) if protected else None
        rows.append(
            {
                "form": form,
                "count": entry.count if entry else None,
                "suppressed": f"suppressed (fewer than {project.disclosure_threshold})"
                if entry and entry.count is None
                else "",
            }
        )
    margins = list(PopulationMargin.objects.filter(project=project))
    return render(
        request,
        "dashboards/project.html",
        {"project": project, "rows": rows, "margins": margins},
    )
