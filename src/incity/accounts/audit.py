"""The one place audit rows are written. Services call `record` inside their transaction."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from incity.accounts.models import AuditEvent, AuditKind, Organisation, Project, User


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the channel and, for the web and API, the client."""

    channel: str
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, channel: str = "web") -> Origin:
        # REMOTE_ADDR is the proxy's address behind a load balancer; the
        # deployment guide explains how to pass the client's address through.
        return cls(
            channel=channel,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )

    @classmethod
    def cli(cls) -> Origin:
        return cls(channel="cli", user_agent=f"incity-cli@{socket.gethostname()}"[:300])


def record(
    *,
    actor: User | None,
    origin: Origin,
    kind: AuditKind,
    action: str,
    organisation: Organisation | None = None,
    project: Project | None = None,
    target: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    if project is not None and organisation is None:
        organisation = project.organisation
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=actor.get_username() if actor is not None else "",
        organisation=organisation,
        project=project,
        kind=kind,
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        channel=origin.channel,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        detail=detail or {},
    )
