"""Reads of the audit log, guarded by `access`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.models import AuditEvent, AuditKind, Membership
from incity.accounts.permissions import OrganisationAction
from incity.errors import InvalidInput


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    kind: str = ""
    project: str = ""
    since: date | None = None
    until: date | None = None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(
    user: AnyUser, organisation_slug: str, filters: AuditFilter
) -> QuerySet[AuditEvent]:
    """The organisation's audit rows, newest first, for a lead or admin of that organisation."""
    organisation = access.get_organisation(
        user, organisation_slug, OrganisationAction.VIEW_AUDIT_LOG
    )
    if filters.kind and filters.kind not in AuditKind.values:
        raise InvalidInput(
            "kind", f"Unknown kind '{filters.kind}'; choose one of {', '.join(AuditKind.values)}."
        )
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("since", "'since' is after 'until'.")
    # Sign-in and token events belong to no organisation; a lead still sees
    # those of the organisation's current members.
    members = Membership.objects.filter(organisation=organisation).values("user_id")
    events = AuditEvent.objects.filter(
        Q(organisation=organisation)
        | Q(organisation__isnull=True, kind=AuditKind.AUTH, actor_id__in=members)
    ).select_related("project")
    if filters.action:
        events = events.filter(action__startswith=filters.action)
    if filters.actor:
        events = events.filter(actor_username=filters.actor)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.project:
        events = events.filter(project__slug=filters.project)
    if filters.since:
        events = events.filter(at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(at__lt=_day_start(filters.until) + timedelta(days=1))
    return events
