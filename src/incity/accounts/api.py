"""API for the signed-in user, organisations, projects, audit log and API tokens."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from incity.accounts import access, queries, services
from incity.accounts.models import ApiToken, AuditEvent, Organisation, Project, User
from incity.accounts.permissions import OrganisationAction, ProjectAction
from incity.accounts.roles import ProjectState
from incity.api_context import api_origin, signed_in_user
from incity.errors import InvalidInput

router = Router(tags=["accounts"])


class MembershipOut(Schema):
    organisation: str
    organisation_name: str
    role: str


class MeOut(Schema):
    username: str
    email: str
    memberships: list[MembershipOut]
    is_demo_account: bool


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str
    country: str
    size_band: str
    migration_history: str
    migration_role: str
    is_synthetic: bool


class ProjectOut(Schema):
    slug: str
    name: str
    organisation: str = Field(..., alias="organisation.slug")
    state: str
    description: str
    disclosure_threshold: int
    is_synthetic: bool


class ProjectIn(Schema):
    slug: str = Field(..., min_length=1, max_length=64)
    name: str = Field(..., min_length=1, max_length=200)
    description: str = ""
    disclosure_threshold: int | None = Field(None, ge=2)


class StateIn(Schema):
    state: ProjectState


class MemberIn(Schema):
    username: str
    role: str


class AuditOut(Schema):
    id: int
    at: datetime
    actor: str = Field(..., alias="actor_username")
    kind: str
    action: str
    project: str | None = None
    target_type: str
    target_id: str
    channel: str
    ip_address: str | None
    detail: dict[str, object]

    @staticmethod
    def resolve_project(event: AuditEvent) -> str | None:
        return event.project.slug if event.project else None


class AuditQuery(Schema):
    organisation: str
    action: str = ""
    actor: str = ""
    kind: str = ""
    project: str = ""
    since: date | None = None
    until: date | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    days: int | None = Field(None, ge=1, le=3650)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    user = signed_in_user(request)
    memberships = user.memberships.select_related("organisation")
    return {
        "username": user.username,
        "email": user.email,
        "is_demo_account": user.is_demo_account,
        "memberships": [
            {
                "organisation": m.organisation.slug,
                "organisation_name": m.organisation.name,
                "role": m.role,
            }
            for m in memberships
        ],
    }


@router.get("/organisations", response=list[OrganisationOut])
def list_organisations(request: HttpRequest) -> list[Organisation]:
    return list(access.visible_organisations(signed_in_user(request)))


@router.get("/organisations/{slug}", response=OrganisationOut)
def get_organisation(request: HttpRequest, slug: str) -> Organisation:
    return access.get_organisation(
        signed_in_user(request), slug, OrganisationAction.VIEW_ORGANISATION
    )


@router.post("/organisations/{slug}/projects", response={201: ProjectOut})
def create_project(request: HttpRequest, slug: str, payload: ProjectIn) -> Status[Project]:
    user = signed_in_user(request)
    organisation = access.get_organisation(user, slug, OrganisationAction.CREATE_PROJECT)
    project = services.create_project(
        acting_user=user,
        origin=api_origin(request),
        organisation=organisation,
        slug=payload.slug,
        name=payload.name,
        description=payload.description,
        disclosure_threshold=payload.disclosure_threshold,
    )
    return Status(201, project)


@router.post("/organisations/{slug}/members", response={200: MembershipOut})
def set_member(request: HttpRequest, slug: str, payload: MemberIn) -> dict[str, str]:
    user = signed_in_user(request)
    organisation = access.get_organisation(user, slug, OrganisationAction.MANAGE_MEMBERS)
    member = User.objects.filter(username=payload.username).first()
    if member is None:
        raise InvalidInput("username", f"No user named '{payload.username}'.")
    membership = services.set_membership(
        acting_user=user,
        origin=api_origin(request),
        user=member,
        organisation=organisation,
        role=payload.role,
    )
    return {
        "organisation": organisation.slug,
        "organisation_name": organisation.name,
        "role": membership.role,
    }


@router.get("/projects", response=list[ProjectOut])
def list_projects(request: HttpRequest) -> list[Project]:
    return list(access.visible_projects(signed_in_user(request)))


@router.get("/projects/{slug}", response=ProjectOut)
def get_project(request: HttpRequest, slug: str) -> Project:
    return access.get_project(signed_in_user(request), slug, ProjectAction.VIEW_PROJECT)


@router.post("/projects/{slug}/state", response=ProjectOut)
def change_state(request: HttpRequest, slug: str, payload: StateIn) -> Project:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.CHANGE_STATE)
    return services.change_project_state(
        acting_user=user, origin=api_origin(request), project=project, state=payload.state
    )


@router.get("/audit", response=list[AuditOut])
def audit_log(request: HttpRequest, filters: Query[AuditQuery]) -> list[AuditEvent]:
    events = queries.audit_events(
        signed_in_user(request),
        filters.organisation,
        queries.AuditFilter(
            action=filters.action,
            actor=filters.actor,
            kind=filters.kind,
            project=filters.project,
            since=filters.since,
            until=filters.until,
        ),
    )
    return list(events[filters.offset : filters.offset + filters.limit])


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=signed_in_user(request)))


@router.post("/tokens", response={201: NewTokenOut})
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    user = signed_in_user(request)
    token, raw = services.create_api_token(
        acting_user=user,
        origin=api_origin(request),
        user=user,
        name=payload.name,
        days=payload.days,
    )
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "token": raw,
        },
    )


@router.delete("/tokens/{token_id}", response=TokenOut)
def revoke_token(request: HttpRequest, token_id: int) -> ApiToken:
    return services.revoke_api_token(
        acting_user=signed_in_user(request), origin=api_origin(request), token_id=token_id
    )
