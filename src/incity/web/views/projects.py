"""A project's page, and the form a lead uses to move it to another state."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from incity.accounts import access, services
from incity.accounts.audit import Origin
from incity.accounts.models import Project
from incity.accounts.permissions import ACTION_DESCRIPTIONS, ProjectAction
from incity.errors import IncityError
from incity.web.forms import ProjectStateForm
from incity.web.guards import domain_errors, signed_in_user
from incity.web.selectors import allowed_project_actions


def _action_rows(actions: list[ProjectAction]) -> list[tuple[str, str]]:
    # ACTION_DESCRIPTIONS are English source strings; gettext finds them in the catalogue.
    return [(action.value, _(ACTION_DESCRIPTIONS[action])) for action in actions]


@require_safe
@login_required
@domain_errors
def project_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.VIEW_PROJECT)
    may_change_state = access.can_project(user, ProjectAction.CHANGE_STATE, project)
    context = {
        "project": project,
        "role": access.role_in(user, project.organisation),
        "actions": _action_rows(allowed_project_actions(user, project)),
        "state_form": ProjectStateForm(project=project) if may_change_state else None,
    }
    return render(request, "web/project.html", context)


@require_POST
@login_required
@domain_errors
def project_state(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.CHANGE_STATE)
    form = ProjectStateForm(request.POST, project=project)
    if not form.is_valid():
        for error in form["state"].errors:
            messages.error(request, str(error))
        return redirect("web:project", slug=project.slug)
    _change_state(request, project, form.cleaned_data["state"])
    return redirect("web:project", slug=project.slug)


def _change_state(request: HttpRequest, project: Project, state: str) -> None:
    try:
        services.change_project_state(
            acting_user=signed_in_user(request),
            origin=Origin.from_request(request),
            project=project,
            state=state,
        )
    except IncityError as error:
        messages.error(request, error.message)
        return
    messages.success(
        request,
        _("%(project)s is now %(state)s.")
        % {"project": project.name, "state": project.get_state_display()},
    )
