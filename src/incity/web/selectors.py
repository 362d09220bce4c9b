"""Reads the pages need. Each goes through incity.accounts.access, never around it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.models import Membership, Organisation, Project
from incity.accounts.permissions import NetworkAction, OrganisationAction, ProjectAction
from incity.accounts.roles import OrganisationKind, Role
from incity.errors import Forbidden


class ProjectFocus(StrEnum):
    """Which projects a role's home page lists; the template words the heading for each."""

    ALL = "all"
    RAW_DATA = "raw_data"
    COLLECTING = "collecting"
    PUBLISHED = "published"


# role -> what its home lists, and the action that selects those projects.
HOME_FOCUS: dict[Role, tuple[ProjectFocus, ProjectAction]] = {
    Role.NETWORK_ADMIN: (ProjectFocus.ALL, ProjectAction.VIEW_PROJECT),
    Role.CITY_LEAD: (ProjectFocus.ALL, ProjectAction.VIEW_PROJECT),
    Role.RESEARCHER: (ProjectFocus.RAW_DATA, ProjectAction.VIEW_RAW_DATA),
    Role.CITIZEN_RESEARCHER: (ProjectFocus.COLLECTING, ProjectAction.COLLECT),
    Role.PARTNER: (ProjectFocus.PUBLISHED, ProjectAction.VIEW_PUBLISHED),
    Role.VIEWER: (ProjectFocus.PUBLISHED, ProjectAction.VIEW_PUBLISHED),
}


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    # The organisation page opens only to members, so only their rows link to it.
    is_member: bool


@dataclass(frozen=True)
class KindGroup:
    kind: OrganisationKind
    rows: list[OrganisationRow]


@dataclass(frozen=True)
class RoleHome:
    organisation: Organisation
    role: Role
    focus: ProjectFocus
    projects: list[Project]
    members: list[Membership]
    can_view_audit_log: bool
    can_manage_members: bool
    network: list[KindGroup]


def projects_in(
    user: AnyUser, organisation: Organisation, action: ProjectAction = ProjectAction.VIEW_PROJECT
) -> list[Project]:
    """The organisation's projects on which the user may take `action` now."""
    return list(
        access.visible_projects(user, action).filter(organisation=organisation).order_by("name")
    )


def members_of(user: AnyUser, organisation: Organisation) -> list[Membership]:
    if not access.can_organisation(user, OrganisationAction.VIEW_ORGANISATION, organisation):
        raise Forbidden(f"Your role in {organisation.name} does not show its members.")
    memberships = Membership.objects.filter(organisation=organisation).select_related("user")
    return list(memberships.order_by("user__username"))


def allowed_project_actions(user: AnyUser, project: Project) -> list[ProjectAction]:
    return [action for action in ProjectAction if access.can_project(user, action, project)]


def network_overview(user: AnyUser) -> list[KindGroup]:
    """Every organisation in the network by kind, for network admins; empty for anyone else."""
    if not access.can_network(user, NetworkAction.MANAGE_ORGANISATIONS):
        return []
    mine = access.roles_by_organisation(user)
    by_kind: dict[str, list[OrganisationRow]] = {}
    for organisation in access.visible_organisations(user).order_by("name"):
        row = OrganisationRow(organisation=organisation, is_member=organisation.pk in mine)
        by_kind.setdefault(organisation.kind, []).append(row)
    return [
        KindGroup(kind=kind, rows=by_kind[kind]) for kind in OrganisationKind if kind in by_kind
    ]


def role_home(user: AnyUser, organisation: Organisation) -> RoleHome | None:
    """What the home page shows for the user's role in `organisation`; None without a role there."""
    role = access.role_in(user, organisation)
    if role is None:
        return None
    focus, action = HOME_FOCUS[role]
    can_manage_members = access.can_organisation(
        user, OrganisationAction.MANAGE_MEMBERS, organisation
    )
    return RoleHome(
        organisation=organisation,
        role=role,
        focus=focus,
        projects=projects_in(user, organisation, action),
        members=members_of(user, organisation) if can_manage_members else [],
        can_view_audit_log=access.can_organisation(
            user, OrganisationAction.VIEW_AUDIT_LOG, organisation
        ),
        can_manage_members=can_manage_members,
        network=network_overview(user),
    )
