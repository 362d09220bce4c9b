"""Guarded reads: every lookup of an organisation, project or audit row goes through here.

A member of one organisation never reaches another's projects: lookups that
fail the membership check answer "not found" so they reveal nothing; lookups
that find a visible object the user may not act on answer "forbidden".
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from incity.accounts.models import Membership, Organisation, Project, User
from incity.accounts.permissions import (
    PROJECT_MATRIX,
    NetworkAction,
    OrganisationAction,
    ProjectAction,
    any_role_allows_network_action,
    role_allows_organisation_action,
    role_allows_project_action,
)
from incity.accounts.roles import Role
from incity.errors import Forbidden, NotFound

AnyUser = User | AnonymousUser


def roles_by_organisation(user: AnyUser) -> dict[int, Role]:
    """The user's role in each organisation, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return {}
    cached: dict[int, Role] | None = getattr(user, "_incity_roles", None)
    if cached is None:
        cached = {
            organisation_id: Role(role)
            for organisation_id, role in Membership.objects.filter(user=user).values_list(
                "organisation_id", "role"
            )
        }
        setattr(user, "_incity_roles", cached)  # noqa: B010  (a per-request cache on the user)
    return cached


def forget_cached_roles(user: AnyUser) -> None:
    if hasattr(user, "_incity_roles"):
        delattr(user, "_incity_roles")


def role_in(user: AnyUser, organisation: Organisation) -> Role | None:
    return roles_by_organisation(user).get(organisation.pk)


def can_network(user: AnyUser, action: NetworkAction) -> bool:
    return any_role_allows_network_action(roles_by_organisation(user).values())


def can_organisation(user: AnyUser, action: OrganisationAction, organisation: Organisation) -> bool:
    role = role_in(user, organisation)
    if role is None:
        return False
    return role_allows_organisation_action(role, action)


def can_project(user: AnyUser, action: ProjectAction, project: Project) -> bool:
    role = roles_by_organisation(user).get(project.organisation_id)
    if role is None:
        return False
    return role_allows_project_action(role, action, project.state)


def visible_organisations(user: AnyUser) -> QuerySet[Organisation]:
    if can_network(user, NetworkAction.MANAGE_ORGANISATIONS):
        return Organisation.objects.all()
    return Organisation.objects.filter(pk__in=roles_by_organisation(user).keys())


def visible_projects(
    user: AnyUser, action: ProjectAction = ProjectAction.VIEW_PROJECT
) -> QuerySet[Project]:
    """Projects on which the user may take `action` in their current state, in one query."""
    condition = Q(pk__in=[])
    for organisation_id, role in roles_by_organisation(user).items():
        states = PROJECT_MATRIX[role][action]
        if states:
            condition |= Q(organisation_id=organisation_id, state__in=[s.value for s in states])
    return Project.objects.filter(condition).select_related("organisation")


def get_organisation(user: AnyUser, slug: str, action: OrganisationAction) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise NotFound(f"No organisation '{slug}' among yours.", organisation=slug)
    if role_in(user, organisation) is None:
        raise NotFound(f"No organisation '{slug}' among yours.", organisation=slug)
    if not can_organisation(user, action, organisation):
        raise Forbidden(
            f"Your role in {organisation.name} does not allow this ({action.value}).",
            organisation=slug,
            action=action.value,
        )
    return organisation


def get_project(user: AnyUser, slug: str, action: ProjectAction) -> Project:
    project = Project.objects.select_related("organisation").filter(slug=slug).first()
    if project is None:
        raise NotFound(f"No project '{slug}' among yours.", project=slug)
    if not can_project(user, ProjectAction.VIEW_PROJECT, project):
        raise NotFound(f"No project '{slug}' among yours.", project=slug)
    if not can_project(user, action, project):
        raise Forbidden(
            f"Your role does not allow {action.value} while the project is {project.state}.",
            project=slug,
            action=action.value,
            state=project.state,
        )
    return project
