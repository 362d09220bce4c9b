"""The permission matrix: which role may do which action in which project state.

This module is the single place permissions are declared. `docs/permissions.md`
is generated from it (`incity permissions --markdown`) and a test checks that
the two agree; another test exercises every cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.utils.translation import gettext_noop

from incity.accounts.roles import ProjectState, Role


class ProjectAction(StrEnum):
    VIEW_PROJECT = "view_project"
    EDIT_PROJECT = "edit_project"
    CHANGE_STATE = "change_state"
    COLLECT = "collect"
    VIEW_RAW_DATA = "view_raw_data"
    EXPORT_RAW_DATA = "export_raw_data"
    REVIEW_SUBMISSIONS = "review_submissions"
    VIEW_PUBLISHED = "view_published"


class OrganisationAction(StrEnum):
    VIEW_ORGANISATION = "view_organisation"
    CREATE_PROJECT = "create_project"
    MANAGE_MEMBERS = "manage_members"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_FRAMEWORKS = "manage_frameworks"


class NetworkAction(StrEnum):
    """Actions on the network as a whole, allowed to network admins only."""

    MANAGE_ORGANISATIONS = "manage_organisations"
    MANAGE_NETWORK_FRAMEWORKS = "manage_network_frameworks"


ACTION_DESCRIPTIONS: dict[str, str] = {
    ProjectAction.VIEW_PROJECT: gettext_noop("see the project, its areas and its team"),
    ProjectAction.EDIT_PROJECT: gettext_noop("change the project's settings, forms and areas"),
    ProjectAction.CHANGE_STATE: gettext_noop("open, close, archive or reopen the project"),
    ProjectAction.COLLECT: gettext_noop("submit answers and interviews"),
    ProjectAction.VIEW_RAW_DATA: gettext_noop("read individual answers (audited)"),
    ProjectAction.EXPORT_RAW_DATA: gettext_noop("export individual answers (audited)"),
    ProjectAction.REVIEW_SUBMISSIONS: gettext_noop(
        "approve, flag, reject and correct submissions (audited)"
    ),
    ProjectAction.VIEW_PUBLISHED: gettext_noop("see figures that passed disclosure control"),
    OrganisationAction.VIEW_ORGANISATION: gettext_noop(
        "see the organisation, its members and projects"
    ),
    OrganisationAction.CREATE_PROJECT: gettext_noop("start a project owned by the organisation"),
    OrganisationAction.MANAGE_MEMBERS: gettext_noop("add, change and remove members"),
    OrganisationAction.VIEW_AUDIT_LOG: gettext_noop("read the organisation's audit log"),
    OrganisationAction.MANAGE_FRAMEWORKS: gettext_noop(
        "add the organisation's own frameworks and crosswalks"
    ),
    NetworkAction.MANAGE_ORGANISATIONS: gettext_noop("add organisations to the network"),
    NetworkAction.MANAGE_NETWORK_FRAMEWORKS: gettext_noop(
        "add network-wide frameworks and crosswalks"
    ),
}

_ALL_STATES = frozenset(ProjectState)
_LIVE = frozenset({ProjectState.DRAFT, ProjectState.ACTIVE})
_HAS_DATA = frozenset({ProjectState.ACTIVE, ProjectState.CLOSED})
_PUBLISHED = frozenset({ProjectState.ACTIVE, ProjectState.CLOSED, ProjectState.ARCHIVED})
_NONE: frozenset[ProjectState] = frozenset()

# role -> action -> the project states in which the action is allowed.
PROJECT_MATRIX: dict[Role, dict[ProjectAction, frozenset[ProjectState]]] = {
    Role.NETWORK_ADMIN: {
        ProjectAction.VIEW_PROJECT: _ALL_STATES,
        ProjectAction.EDIT_PROJECT: _LIVE,
        ProjectAction.CHANGE_STATE: _ALL_STATES,
        ProjectAction.COLLECT: _NONE,
        ProjectAction.VIEW_RAW_DATA: _HAS_DATA,
        ProjectAction.EXPORT_RAW_DATA: _HAS_DATA,
        ProjectAction.REVIEW_SUBMISSIONS: _NONE,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
    Role.CITY_LEAD: {
        ProjectAction.VIEW_PROJECT: _ALL_STATES,
        ProjectAction.EDIT_PROJECT: _LIVE,
        ProjectAction.CHANGE_STATE: _ALL_STATES,
        ProjectAction.COLLECT: frozenset({ProjectState.ACTIVE}),
        ProjectAction.VIEW_RAW_DATA: _HAS_DATA | {ProjectState.ARCHIVED},
        ProjectAction.EXPORT_RAW_DATA: _HAS_DATA,
        ProjectAction.REVIEW_SUBMISSIONS: _HAS_DATA,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
    Role.RESEARCHER: {
        ProjectAction.VIEW_PROJECT: _ALL_STATES,
        ProjectAction.EDIT_PROJECT: _LIVE,
        ProjectAction.CHANGE_STATE: _NONE,
        ProjectAction.COLLECT: frozenset({ProjectState.ACTIVE}),
        ProjectAction.VIEW_RAW_DATA: _HAS_DATA,
        ProjectAction.EXPORT_RAW_DATA: _HAS_DATA,
        ProjectAction.REVIEW_SUBMISSIONS: _HAS_DATA,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
    Role.CITIZEN_RESEARCHER: {
        ProjectAction.VIEW_PROJECT: _PUBLISHED,
        ProjectAction.EDIT_PROJECT: _NONE,
        ProjectAction.CHANGE_STATE: _NONE,
        ProjectAction.COLLECT: frozenset({ProjectState.ACTIVE}),
        ProjectAction.VIEW_RAW_DATA: _NONE,
        ProjectAction.EXPORT_RAW_DATA: _NONE,
        ProjectAction.REVIEW_SUBMISSIONS: _NONE,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
    Role.PARTNER: {
        ProjectAction.VIEW_PROJECT: _PUBLISHED,
        ProjectAction.EDIT_PROJECT: _NONE,
        ProjectAction.CHANGE_STATE: _NONE,
        ProjectAction.COLLECT: _NONE,
        ProjectAction.VIEW_RAW_DATA: _NONE,
        ProjectAction.EXPORT_RAW_DATA: _NONE,
        ProjectAction.REVIEW_SUBMISSIONS: _NONE,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
    Role.VIEWER: {
        ProjectAction.VIEW_PROJECT: _PUBLISHED,
        ProjectAction.EDIT_PROJECT: _NONE,
        ProjectAction.CHANGE_STATE: _NONE,
        ProjectAction.COLLECT: _NONE,
        ProjectAction.VIEW_RAW_DATA: _NONE,
        ProjectAction.EXPORT_RAW_DATA: _NONE,
        ProjectAction.REVIEW_SUBMISSIONS: _NONE,
        ProjectAction.VIEW_PUBLISHED: _PUBLISHED,
    },
}

# role -> organisation actions it may take in its own organisation.
ORGANISATION_MATRIX: dict[Role, frozenset[OrganisationAction]] = {
    Role.NETWORK_ADMIN: frozenset(OrganisationAction),
    Role.CITY_LEAD: frozenset(OrganisationAction),
    Role.RESEARCHER: frozenset({OrganisationAction.VIEW_ORGANISATION}),
    Role.CITIZEN_RESEARCHER: frozenset({OrganisationAction.VIEW_ORGANISATION}),
    Role.PARTNER: frozenset({OrganisationAction.VIEW_ORGANISATION}),
    Role.VIEWER: frozenset({OrganisationAction.VIEW_ORGANISATION}),
}

# Roles that may take network actions (through a membership in any organisation).
NETWORK_ROLES: frozenset[Role] = frozenset({Role.NETWORK_ADMIN})

# Roles whose holders can read raw personal data somewhere: they must use two-factor.
STAFF_ROLES: frozenset[Role] = frozenset({Role.NETWORK_ADMIN, Role.CITY_LEAD})


def role_allows_project_action(
    role: Role | str, action: ProjectAction, state: ProjectState | str
) -> bool:
    return ProjectState(state) in PROJECT_MATRIX[Role(role)][action]


def role_allows_organisation_action(role: Role | str, action: OrganisationAction) -> bool:
    return action in ORGANISATION_MATRIX[Role(role)]


def any_role_allows_network_action(roles: Iterable[Role | str]) -> bool:
    return any(Role(role) in NETWORK_ROLES for role in roles)


def _mark(allowed: bool) -> str:
    return "yes" if allowed else "—"


def matrix_markdown() -> str:
    """The matrix as the Markdown tables kept in docs/permissions.md."""
    roles = list(Role)
    lines = ["## Project actions by role and project state", ""]
    header = "| action | state | " + " | ".join(role.value for role in roles) + " |"
    lines += [header, "|" + "---|" * (len(roles) + 2)]
    for action in ProjectAction:
        for state in ProjectState:
            cells = [_mark(role_allows_project_action(role, action, state)) for role in roles]
            lines.append(f"| {action.value} | {state.value} | " + " | ".join(cells) + " |")
    lines += ["", "## Organisation actions by role (in the member's own organisation)", ""]
    lines += ["| action | " + " | ".join(role.value for role in roles) + " |"]
    lines += ["|" + "---|" * (len(roles) + 1)]
    for org_action in OrganisationAction:
        cells = [_mark(role_allows_organisation_action(role, org_action)) for role in roles]
        lines.append(f"| {org_action.value} | " + " | ".join(cells) + " |")
    lines += ["", "## Network actions by role (a membership in any organisation)", ""]
    lines += ["| action | " + " | ".join(role.value for role in roles) + " |"]
    lines += ["|" + "---|" * (len(roles) + 1)]
    for network_action in NetworkAction:
        cells = [_mark(role in NETWORK_ROLES) for role in roles]
        lines.append(f"| {network_action.value} | " + " | ".join(cells) + " |")
    lines += ["", "## What each action means", ""]
    lines += [f"- `{name}`: {text}" for name, text in ACTION_DESCRIPTIONS.items()]
    return "\n".join(lines) + "\n"
