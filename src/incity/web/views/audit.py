"""An organisation's audit log, filtered and paginated, for its leads and network admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from incity.accounts import access, queries
from incity.accounts.models import AuditEvent, Organisation, User
from incity.accounts.permissions import OrganisationAction
from incity.errors import InvalidInput
from incity.web.forms import AuditFilterForm
from incity.web.guards import domain_errors, signed_in_user
from incity.web.selectors import projects_in

EVENTS_PER_PAGE = 50


@require_safe
@login_required
@domain_errors
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    # Checked before the filter is read, so outsiders learn nothing from its errors.
    organisation = access.get_organisation(user, slug, OrganisationAction.VIEW_AUDIT_LOG)
    form = AuditFilterForm(request.GET, projects=projects_in(user, organisation))
    page = _events_page(request, user, organisation, form) if form.is_valid() else None
    context = {"organisation": organisation, "form": form, "page": page}
    return render(request, "web/audit.html", context)


def _events_page(
    request: HttpRequest, user: User, organisation: Organisation, form: AuditFilterForm
) -> Page[AuditEvent] | None:
    """One page of matching events, newest first; None when the query refuses the filter."""
    try:
        events = queries.audit_events(user, organisation.slug, form.audit_filter())
    except InvalidInput as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None
    paginator: Paginator[AuditEvent] = Paginator(events, EVENTS_PER_PAGE)
    return paginator.get_page(request.GET.get("page"))
