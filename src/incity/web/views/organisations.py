"""An organisation's page: details, members and the projects the visitor may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from incity.accounts import access
from incity.accounts.permissions import OrganisationAction
from incity.web.guards import domain_errors, signed_in_user
from incity.web.selectors import members_of, projects_in


@require_safe
@login_required
@domain_errors
def organisation_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    organisation = access.get_organisation(user, slug, OrganisationAction.VIEW_ORGANISATION)
    context = {
        "organisation": organisation,
        "role": access.role_in(user, organisation),
        "members": members_of(user, organisation),
        "projects": projects_in(user, organisation),
        "can_view_audit_log": access.can_organisation(
            user, OrganisationAction.VIEW_AUDIT_LOG, organisation
        ),
        "can_manage_members": access.can_organisation(
            user, OrganisationAction.MANAGE_MEMBERS, organisation
        ),
    }
    return render(request, "web/organisation.html", context)
