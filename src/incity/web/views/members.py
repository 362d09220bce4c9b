"""An organisation's members: the list, giving a person a role, and removing them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from incity.accounts import access, services
from incity.accounts.audit import Origin
from incity.accounts.models import Organisation, User
from incity.accounts.permissions import NetworkAction, OrganisationAction
from incity.errors import IncityError
from incity.web.forms import MembershipForm, RemoveMemberForm
from incity.web.guards import domain_errors, signed_in_user
from incity.web.selectors import members_of


def _membership_form(user: User, data: QueryDict | None = None) -> MembershipForm:
    may_grant = access.can_network(user, NetworkAction.MANAGE_ORGANISATIONS)
    return MembershipForm(data, may_grant_network_admin=may_grant)


def _members_page(
    request: HttpRequest, organisation: Organisation, form: MembershipForm
) -> HttpResponse:
    context = {
        "organisation": organisation,
        "members": members_of(signed_in_user(request), organisation),
        "form": form,
    }
    return render(request, "web/members.html", context)


def _managed_organisation(user: User, slug: str) -> Organisation:
    return access.get_organisation(user, slug, OrganisationAction.MANAGE_MEMBERS)


def _member(organisation: Organisation, username: str) -> User | None:
    return User.objects.filter(memberships__organisation=organisation, username=username).first()


def _person_to_give_a_role(form: MembershipForm) -> User | None:
    """The existing user the valid form names, or None with the reason put on the form."""
    username = form.cleaned_data["username"]
    person = User.objects.filter(username=username).first()
    if person is None:
        form.add_error("username", _("No user named '%(username)s'.") % {"username": username})
        return None
    return person


@require_safe
@login_required
@domain_errors
def members(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    organisation = _managed_organisation(user, slug)
    return _members_page(request, organisation, _membership_form(user))


@require_POST
@login_required
@domain_errors
def member_set(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    organisation = _managed_organisation(user, slug)
    form = _membership_form(user, request.POST)
    if not form.is_valid():
        return _members_page(request, organisation, form)
    member = _person_to_give_a_role(form)
    if member is None:
        return _members_page(request, organisation, form)
    try:
        services.set_membership(
            acting_user=user,
            origin=Origin.from_request(request),
            user=member,
            organisation=organisation,
            role=form.cleaned_data["role"],
        )
    except IncityError as error:
        # The service's refusal (your own role, the network admin role) shows on the form.
        form.add_error(None, error.message)
        return _members_page(request, organisation, form)
    messages.success(
        request,
        _("%(username)s now has a role in %(organisation)s.")
        % {"username": member.username, "organisation": organisation.name},
    )
    return redirect("web:members", slug=organisation.slug)


@require_POST
@login_required
@domain_errors
def member_remove(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    organisation = _managed_organisation(user, slug)
    form = RemoveMemberForm(request.POST)
    member = _member(organisation, form.cleaned_data["username"]) if form.is_valid() else None
    if member is None:
        messages.error(request, _("That person is not a member of this organisation."))
    else:
        _remove(request, organisation, member)
    return redirect("web:members", slug=organisation.slug)


def _remove(request: HttpRequest, organisation: Organisation, member: User) -> None:
    try:
        services.remove_membership(
            acting_user=signed_in_user(request),
            origin=Origin.from_request(request),
            user=member,
            organisation=organisation,
        )
    except IncityError as error:
        messages.error(request, error.message)
        return
    messages.success(
        request,
        _("%(username)s is no longer a member of %(organisation)s.")
        % {"username": member.username, "organisation": organisation.name},
    )
