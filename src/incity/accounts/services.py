"""Every write to users, organisations, memberships, projects and tokens.

Each service is keyword-only, atomic, takes the acting user (None for the
machine operator at the command line) and writes an audit row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import (
    ApiToken,
    AuditKind,
    Membership,
    Organisation,
    Project,
    User,
)
from incity.accounts.permissions import NetworkAction, OrganisationAction, ProjectAction
from incity.accounts.roles import OrganisationKind, ProjectState, Role
from incity.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from incity.validation import check_slug

_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
TOKEN_PREFIX = "inc_"

# Which project states each state may move to.
STATE_TRANSITIONS: dict[ProjectState, frozenset[ProjectState]] = {
    ProjectState.DRAFT: frozenset({ProjectState.ACTIVE, ProjectState.ARCHIVED}),
    ProjectState.ACTIVE: frozenset({ProjectState.CLOSED}),
    ProjectState.CLOSED: frozenset({ProjectState.ACTIVE, ProjectState.ARCHIVED}),
    ProjectState.ARCHIVED: frozenset({ProjectState.CLOSED}),
}


def _check_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise InvalidInput("role", f"Unknown role '{value}'; choose one of {choices}.") from None


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def _organisation_by_slug(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise NotFound(f"No organisation with slug '{slug}'.", organisation=slug)
    return organisation


@transaction.atomic
def create_organisation(
    *,
    acting_user: User | None,
    origin: Origin,
    slug: str,
    name: str,
    kind: str,
    country: str = "",
    is_synthetic: bool = False,
    **attributes: str,
) -> Organisation:
    if acting_user is not None:
        _require(
            access.can_network(acting_user, NetworkAction.MANAGE_ORGANISATIONS),
            "Only network admins can add organisations.",
        )
    check_slug("slug", slug)
    if not name.strip():
        raise InvalidInput("name", "An organisation needs a name.")
    if kind not in OrganisationKind.values:
        raise InvalidInput(
            "kind",
            f"Unknown organisation kind '{kind}'; "
            f"choose one of {', '.join(OrganisationKind.values)}.",
        )
    if Organisation.objects.filter(slug=slug).exists():
        raise Conflict(f"An organisation with slug '{slug}' already exists.", slug=slug)
    organisation = Organisation.objects.create(
        slug=slug,
        name=name.strip(),
        kind=kind,
        country=country.upper(),
        is_synthetic=is_synthetic,
        **attributes,
    )
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="organisation.create",
        organisation=organisation,
        target=organisation,
        detail={"slug": slug, "kind": kind},
    )
    return organisation


@transaction.atomic
def create_user(
    *,
    acting_user: User | None,
    origin: Origin,
    username: str,
    organisation_slug: str,
    role: str,
    password: str | None,
    email: str = "",
    is_demo_account: bool = False,
) -> User:
    """Create a user with a first membership. Without a password the user sets one by reset."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "username",
            f"Username '{username}' may only use letters, digits and @ . + - _ (at most 150).",
        )
    member_role = _check_role(role)
    organisation = _organisation_by_slug(organisation_slug)
    if acting_user is not None:
        _require(
            access.can_organisation(acting_user, OrganisationAction.MANAGE_MEMBERS, organisation),
            f"You cannot add members to {organisation.name}.",
        )
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named '{username}' already exists.", username=username)
    user = User(username=username, email=email, is_demo_account=is_demo_account)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            if not is_demo_account:
                validate_password(password, user)
        except ValidationError as error:
            raise InvalidInput("password", " ".join(error.messages)) from None
        user.set_password(password)
    user.save()
    membership = Membership.objects.create(user=user, organisation=organisation, role=member_role)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="user.create",
        organisation=organisation,
        target=user,
        detail={"username": username, "role": member_role.value, "membership": membership.pk},
    )
    return user


def _check_may_manage(
    acting_user: User, member: User, organisation: Organisation, *, if_yourself: str
) -> None:
    _require(
        access.can_organisation(acting_user, OrganisationAction.MANAGE_MEMBERS, organisation),
        f"You cannot manage members of {organisation.name}.",
    )
    # Changing your own role could lock an organisation out of its own administration.
    _require(acting_user.pk != member.pk, if_yourself)
    current = Membership.objects.filter(user=member, organisation=organisation).first()
    _require(
        current is None
        or current.role != Role.NETWORK_ADMIN
        or access.can_network(acting_user, NetworkAction.MANAGE_ORGANISATIONS),
        "Only a network admin can change or remove a network admin.",
    )


@transaction.atomic
def set_membership(
    *, acting_user: User | None, origin: Origin, user: User, organisation: Organisation, role: str
) -> Membership:
    """Give a user a role in an organisation, or change the role they hold there."""
    member_role = _check_role(role)
    if acting_user is not None:
        _check_may_manage(
            acting_user,
            user,
            organisation,
            if_yourself=gettext("You cannot change your own role; ask another lead."),
        )
        # network_admin reaches across the whole network, so only a network admin may grant it.
        _require(
            member_role != Role.NETWORK_ADMIN
            or access.can_network(acting_user, NetworkAction.MANAGE_ORGANISATIONS),
            "Only a network admin can give the network_admin role.",
        )
    membership, created = Membership.objects.update_or_create(
        user=user, organisation=organisation, defaults={"role": member_role}
    )
    access.forget_cached_roles(user)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="membership.create" if created else "membership.change",
        organisation=organisation,
        target=membership,
        detail={"username": user.username, "role": member_role.value},
    )
    return membership


@transaction.atomic
def remove_membership(
    *, acting_user: User | None, origin: Origin, user: User, organisation: Organisation
) -> None:
    if acting_user is not None:
        _check_may_manage(
            acting_user,
            user,
            organisation,
            if_yourself=gettext("You cannot remove yourself; ask another lead."),
        )
    deleted, _ = Membership.objects.filter(user=user, organisation=organisation).delete()
    if not deleted:
        raise NotFound(f"{user.username} is not a member of {organisation.name}.")
    access.forget_cached_roles(user)
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="membership.remove",
        organisation=organisation,
        target=user,
        detail={"username": user.username},
    )


@transaction.atomic
def create_project(
    *,
    acting_user: User | None,
    origin: Origin,
    organisation: Organisation,
    slug: str,
    name: str,
    description: str = "",
    disclosure_threshold: int | None = None,
    is_synthetic: bool = False,
) -> Project:
    if acting_user is not None:
        _require(
            access.can_organisation(acting_user, OrganisationAction.CREATE_PROJECT, organisation),
            f"Your role in {organisation.name} cannot start projects.",
        )
    check_slug("slug", slug)
    if not name.strip():
        raise InvalidInput("name", "A project needs a name.")
    threshold = (
        settings.DISCLOSURE_THRESHOLD if disclosure_threshold is None else disclosure_threshold
    )
    if threshold < 2:
        raise InvalidInput("disclosure_threshold", "The disclosure threshold must be at least 2.")
    if Project.objects.filter(slug=slug).exists():
        raise Conflict(f"A project with slug '{slug}' already exists.", slug=slug)
    project = Project.objects.create(
        organisation=organisation,
        slug=slug,
        name=name.strip(),
        description=description,
        disclosure_threshold=threshold,
        is_synthetic=is_synthetic,
    )
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="project.create",
        project=project,
        target=project,
        detail={"slug": slug},
    )
    return project


@transaction.atomic
def change_project_state(
    *, acting_user: User | None, origin: Origin, project: Project, state: str
) -> Project:
    try:
        new_state = ProjectState(state)
    except ValueError:
        raise InvalidInput(
            "state",
            f"Unknown project state '{state}'; choose one of {', '.join(ProjectState.values)}.",
        ) from None
    if acting_user is not None:
        _require(
            access.can_project(acting_user, ProjectAction.CHANGE_STATE, project),
            "Your role cannot change this project's state.",
        )
    current = ProjectState(project.state)
    if new_state not in STATE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in STATE_TRANSITIONS[current]))
        raise Conflict(
            f"The project is {current.value}; it can move to {allowed}, not {new_state.value}.",
            state=current.value,
        )
    project.state = new_state
    project.save(update_fields=["state"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="project.state",
        project=project,
        target=project,
        detail={"from": current.value, "to": new_state.value},
    )
    return project


def _hash_token(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no salt or
    # stretching needed, unlike passwords) and lets us look tokens up by hash.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def create_api_token(
    *,
    acting_user: User | None,
    origin: Origin,
    user: User,
    name: str,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for `user`; the secret is returned once and only its hash is kept."""
    if acting_user is not None and acting_user.pk != user.pk:
        raise Forbidden("You can only make API tokens for yourself.")
    if not name.strip() or len(name) > 100:
        raise InvalidInput(
            "name", "A token needs a name of 1-100 characters, to tell it apart later."
        )
    lifetime = settings.API_TOKEN_DAYS if days is None else days
    if lifetime < 1 or lifetime > 3650:
        raise InvalidInput("days", "A token lives between 1 and 3650 days.")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=prefix,
        key_hash=_hash_token(raw),
        expires_at=timezone.now() + timedelta(days=lifetime),
    )
    record(
        actor=acting_user or user,
        origin=origin,
        kind=AuditKind.AUTH,
        action="token.create",
        target=token,
        detail={"name": token.name, "prefix": prefix, "for": user.username},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, acting_user: User, origin: Origin, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=acting_user).first()
    if token is None:
        raise NotFound(f"You have no API token with id {token_id}.", token=token_id)
    if token.revoked_at is not None:
        raise Conflict(f"Token '{token.name}' was already revoked.", token=token_id)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.AUTH,
        action="token.revoke",
        target=token,
        detail={"name": token.name, "prefix": token.prefix},
    )
    return token


def user_for_token(raw: str) -> User:
    """The active user a bearer token belongs to, or Unauthenticated saying why not."""
    if not raw.startswith(TOKEN_PREFIX):
        raise Unauthenticated("This is not an incity API token (they start with 'inc_').")
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash_token(raw)).first()
    if token is None:
        raise Unauthenticated("Unknown API token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise Unauthenticated(f"This API token was revoked on {token.revoked_at:%Y-%m-%d}.")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthenticated(f"This API token expired on {token.expires_at:%Y-%m-%d}.")
    if not token.user.is_active:
        raise Unauthenticated("The account this token belongs to is deactivated.")
    if token.user.is_demo_account and not settings.DEMO_MODE:
        raise Unauthenticated("Demo accounts work only in demo mode.")
    # Bookkeeping, not a user's write, so it is not audited; throttled to one
    # update a minute so busy clients do not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
