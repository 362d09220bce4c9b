"""Writes of the collection app: public links (audited), submissions from the app, rate limits.

A submission from the app is stored by `surveys.services.submissions.submit`,
the same path as the API, so validation, consent, encryption, idempotence and
the audit row are the survey engine's. Anonymous residents reach it only
through a live public link, checked here before the engine is called.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.collect.models import PublicLink
from incity.errors import Forbidden, IncityError
from incity.surveys.models import Form
from incity.surveys.services import submissions as submission_services
from incity.surveys.services.submissions import SubmissionInput, SubmitResult

# Anonymous submissions one address may send per window; a household sharing one
# connection stays well inside it, a script filling the form in a loop does not.
ANONYMOUS_SUBMISSIONS_PER_WINDOW: int = getattr(settings, "COLLECT_ANONYMOUS_PER_HOUR", 30)
ANONYMOUS_WINDOW_SECONDS = 3600
TOKEN_BYTES = 24


class TooManyRequests(IncityError):
    status = 429


def _may_edit(acting_user: User | None, form: Form) -> None:
    # acting_user None is the operator at the command line or the demo loader.
    if acting_user is not None and not access.can_project(
        acting_user, ProjectAction.EDIT_PROJECT, form.project
    ):
        raise Forbidden(
            "Your role does not allow changing this project's public links.",
            project=form.project.slug,
        )


@transaction.atomic
def enable_public_link(*, acting_user: User | None, origin: Origin, form: Form) -> PublicLink:
    """Switch the form's public link on, making one (with a new token) the first time."""
    _may_edit(acting_user, form)
    link = PublicLink.objects.select_for_update().filter(form=form).first()
    now = timezone.now()
    if link is None:
        link = PublicLink.objects.create(
            form=form,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            enabled=True,
            created_by=acting_user,
            created_at=now,
            updated_at=now,
        )
        action = "public_link.create"
    elif link.enabled:
        return link
    else:
        link.enabled = True
        link.updated_at = now
        link.save(update_fields=["enabled", "updated_at"])
        action = "public_link.enable"
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action=action,
        project=form.project,
        target=link,
        detail={"form": form.pk},
    )
    return link


@transaction.atomic
def disable_public_link(*, acting_user: User | None, origin: Origin, form: Form) -> PublicLink:
    """Switch the link off: residents who open it are told so, and nothing they send is stored."""
    _may_edit(acting_user, form)
    link = PublicLink.objects.select_for_update().filter(form=form).first()
    if link is None:
        raise Forbidden("This form has no public link to switch off.", form=form.pk)
    if not link.enabled:
        return link
    link.enabled = False
    link.updated_at = timezone.now()
    link.save(update_fields=["enabled", "updated_at"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="public_link.disable",
        project=form.project,
        target=link,
        detail={"form": form.pk},
    )
    return link


def take_anonymous_slot(ip_address: str | None, *, now: float | None = None) -> None:
    """Count one anonymous submission for the address; refuse past the window's limit.

    A fixed window in the shared cache: cheap, and shared by every process on the
    machine (file cache) or every server (Redis).
    """
    window = int((now if now is not None else time.time()) // ANONYMOUS_WINDOW_SECONDS)
    key = f"incity:collect:anonymous:{ip_address or 'unknown'}:{window}"
    cache.add(key, 0, ANONYMOUS_WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one afresh
        cache.set(key, 1, ANONYMOUS_WINDOW_SECONDS + 60)
        count = 1
    if count > ANONYMOUS_SUBMISSIONS_PER_WINDOW:
        raise TooManyRequests(
            "Too many answers were sent from this connection in the last hour; "
            "they are kept on this phone and will be sent later.",
            retry_after=ANONYMOUS_WINDOW_SECONDS,
        )


def submit_from_app(
    *,
    acting_user: User | None,
    origin: Origin,
    form: Form,
    item: SubmissionInput,
    link: PublicLink | None,
) -> SubmitResult:
    """Store one submission sent by the app: a collector's (acting_user) or a resident's (link).

    Exactly one of the two is given; the caller has already checked the link is live
    for this form. The engine raises SubmissionInvalid (422) and stores nothing when an
    answer is wrong; a repeated instance id returns the stored record ('duplicate').
    """
    if (acting_user is None) == (link is None):
        raise Forbidden("A submission comes from a signed-in collector or a public link.")
    if link is not None and link.form_id != form.pk:
        raise Forbidden("This link belongs to another form.")
    if link is not None:
        take_anonymous_slot(origin.ip_address)
    return submission_services.submit(
        acting_user=acting_user, origin=origin, form_pk=form.pk, item=item
    )
