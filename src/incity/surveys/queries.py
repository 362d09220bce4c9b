"""Guarded reads of forms and submissions; raw reads are audited by their callers' services."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput, NotFound
from incity.surveys.crypto import decrypt_json
from incity.surveys.models import (
    Form,
    FormDataState,
    FormVersion,
    Submission,
    SubmissionRevision,
    SurveySettings,
)
from incity.surveys.validation import merge_sensitive


def get_form(user: AnyUser | None, form_pk: int, action: ProjectAction) -> Form:
    """The form, if the user may take `action` in its project.

    Forms outside the user's organisations answer *not found*, like projects do.
    `user=None` is the machine operator at the command line, who may do anything.
    """
    form = (
        Form.objects.select_related("project", "project__organisation").filter(pk=form_pk).first()
    )
    if form is None:
        raise NotFound(f"No form {form_pk} among yours.", form=form_pk)
    if user is not None:
        try:
            access.get_project(user, form.project.slug, action)
        except NotFound:
            raise NotFound(f"No form {form_pk} among yours.", form=form_pk) from None
    return form


def project_sensitive_names(project: Project | int) -> frozenset[str]:
    """The project's sensitive question names (their answers are stored encrypted)."""
    names = (
        SurveySettings.objects.filter(project=project)
        .values_list("sensitive_questions", flat=True)
        .first()
    )
    return frozenset(names or [])


def data_version(form: Form | int) -> int:
    """The form's data counter (0 before its first submission): one indexed read.

    Derived stores keep the value they were built at; equal means still current.
    """
    form_id = form if isinstance(form, int) else form.pk
    value = FormDataState.objects.filter(form_id=form_id).values_list("version", flat=True).first()
    return int(value or 0)


def get_submission(user: AnyUser | None, submission_pk: int, action: ProjectAction) -> Submission:
    submission = (
        Submission.objects.select_related("form", "version", "project", "project__organisation")
        .filter(pk=submission_pk)
        .first()
    )
    if submission is None:
        raise NotFound(f"No submission {submission_pk} among yours.", submission=submission_pk)
    if user is not None:
        try:
            access.get_project(user, submission.project.slug, action)
        except NotFound:
            raise NotFound(
                f"No submission {submission_pk} among yours.", submission=submission_pk
            ) from None
    return submission


def get_version(form: Form, number: int) -> FormVersion:
    version = form.versions.filter(number=number).first()
    if version is None:
        known = ", ".join(str(n) for n in form.versions.values_list("number", flat=True)) or "none"
        raise NotFound(f"The form has no version {number}; published versions: {known}.")
    return version


@dataclass(frozen=True)
class SubmissionQuery:
    version: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    collected_by: str | None = None
    status: str | None = None
    cursor: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class SubmissionPage:
    items: list[tuple[Submission, dict[str, Any]]]
    next_cursor: str | None


def encode_cursor(submission: Submission) -> str:
    raw = f"{submission.received_at.isoformat()}|{submission.pk}"
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, pk = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8").split("|")
        return datetime.fromisoformat(moment), int(pk)
    except (ValueError, UnicodeError):
        raise InvalidInput(
            "cursor", "The cursor is not one this API gave out; start again without it."
        ) from None


def current_answers(submission: Submission) -> dict[str, Any]:
    """The full answers of a submission, sensitive ones decrypted (callers audit the read)."""
    if not submission.sensitive:
        return dict(submission.answers)
    return merge_sensitive(submission.answers, decrypt_json(submission.sensitive))


def submission_page(
    user: User, origin: Origin, form_pk: int, query: SubmissionQuery
) -> SubmissionPage:
    """A page of raw submissions, newest first; the read is audited."""
    form = get_form(user, form_pk, ProjectAction.VIEW_RAW_DATA)
    rows = Submission.objects.filter(form=form).select_related("version", "collected_by")
    if query.version is not None:
        rows = rows.filter(version__number=query.version)
    if query.since is not None:
        rows = rows.filter(received_at__gte=query.since)
    if query.until is not None:
        rows = rows.filter(received_at__lt=query.until)
    if query.collected_by:
        rows = rows.filter(collected_by__username__iexact=query.collected_by)
    if query.status:
        rows = rows.filter(status=query.status)
    if query.cursor:
        moment, pk = decode_cursor(query.cursor)
        rows = rows.filter(Q(received_at__lt=moment) | Q(received_at=moment, pk__lt=pk))
    found = list(rows.order_by("-received_at", "-pk")[: query.limit + 1])
    more = len(found) > query.limit
    found = found[: query.limit]
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action="submission.list",
        project=form.project,
        target=form,
        detail={
            "count": len(found),
            "filters": {
                key: str(value) for key, value in vars(query).items() if value not in (None, "")
            },
        },
    )
    return SubmissionPage(
        items=[(submission, current_answers(submission)) for submission in found],
        next_cursor=encode_cursor(found[-1]) if more and found else None,
    )


def read_submission(
    user: User, origin: Origin, submission_pk: int
) -> tuple[Submission, dict[str, Any]]:
    submission = get_submission(user, submission_pk, ProjectAction.VIEW_RAW_DATA)
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action="submission.read",
        project=submission.project,
        target=submission,
    )
    return submission, current_answers(submission)


def read_revisions(user: User, origin: Origin, submission_pk: int) -> list[SubmissionRevision]:
    submission = get_submission(user, submission_pk, ProjectAction.VIEW_RAW_DATA)
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action="submission.read_revisions",
        project=submission.project,
        target=submission,
    )
    return list(submission.revisions.select_related("made_by", "replaced_by"))


def revision_answers(revision: SubmissionRevision) -> dict[str, Any]:
    if not revision.sensitive:
        return dict(revision.answers)
    return merge_sensitive(revision.answers, decrypt_json(revision.sensitive))
