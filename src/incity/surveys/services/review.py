"""Reviewing a stored submission (approve, flag, reject) and correcting its answers.

An edit keeps the previous answers as a revision with who changed them and why;
the audit row names the questions that changed, never their values.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, InvalidInput
from incity.surveys import crypto
from incity.surveys.definition import FormDefinition
from incity.surveys.models import (
    Answer,
    Submission,
    SubmissionRevision,
    SubmissionStatus,
)
from incity.surveys.queries import (
    get_submission,
    project_sensitive_names,
)
from incity.surveys.services import data_state
from incity.surveys.services.outcomes import SubmissionInvalid
from incity.surveys.services.typed import insert_typed, typed_rows
from incity.surveys.validation import (
    split_sensitive,
    validate_answers,
)

REVIEW_ACTIONS: dict[str, SubmissionStatus] = {
    "approve": SubmissionStatus.APPROVED,
    "flag": SubmissionStatus.FLAGGED,
    "reject": SubmissionStatus.REJECTED,
}


@transaction.atomic
def review_submission(
    *,
    acting_user: User | None,
    origin: Origin,
    submission_pk: int,
    action: str,
    reason: str = "",
) -> Submission:
    submission = get_submission(acting_user, submission_pk, ProjectAction.REVIEW_SUBMISSIONS)
    status = REVIEW_ACTIONS.get(action)
    if status is None:
        raise InvalidInput("action", "The review action must be one of: approve, flag, reject.")
    reason = reason.strip()
    if status != SubmissionStatus.APPROVED and not reason:
        raise InvalidInput("reason", f"Say why you {action} this submission.")
    if len(reason) > 2000:
        raise InvalidInput("reason", "The reason is longer than 2000 characters.")
    if submission.status == status and submission.status_reason == reason:
        raise Conflict(f"The submission is already {status}.")
    previous = submission.status
    submission.status = status
    submission.status_reason = reason
    submission.reviewed_by = acting_user
    submission.reviewed_at = timezone.now()
    submission.save(update_fields=["status", "status_reason", "reviewed_by", "reviewed_at"])
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action=f"submission.{action}",
        project=submission.project,
        target=submission,
        detail={"from": previous, "to": status, "reason": reason},
    )
    data_state.bump([submission.form_id])
    return submission


@transaction.atomic
def edit_submission(
    *,
    acting_user: User | None,
    origin: Origin,
    submission_pk: int,
    answers: dict[str, Any],
    reason: str,
) -> Submission:
    """Correct answers; the previous answers are kept as a revision with who made them."""
    submission = get_submission(acting_user, submission_pk, ProjectAction.REVIEW_SUBMISSIONS)
    submission = (
        Submission.objects.select_for_update()
        .select_related("version", "project")
        .get(pk=submission.pk)
    )
    if not reason.strip():
        raise InvalidInput("reason", "Say why the answers are being changed.")
    if not isinstance(answers, dict):
        raise InvalidInput("answers", "The answers must be an object keyed by question name.")
    definition: FormDefinition = submission.version.definition
    result = validate_answers(definition, answers)
    if result.errors:
        raise SubmissionInvalid(result.errors)
    sensitive_names = project_sensitive_names(submission.project)
    plain, sensitive = split_sensitive(definition, result.answers, sensitive_names)
    if plain == submission.answers and sensitive == _decrypted(submission.sensitive):
        raise Conflict("The answers are the same as the stored ones; nothing changed.")
    SubmissionRevision.objects.create(
        submission=submission,
        number=submission.revision,
        answers=submission.answers,
        sensitive=submission.sensitive,
        made_by_id=submission.edited_by_id or submission.collected_by_id,
        made_at=submission.edited_at or submission.received_at,
        replaced_by=acting_user,
        reason=reason.strip(),
    )
    changed = sorted(
        path
        for path in set(_flat_paths(submission.answers)) | set(_flat_paths(plain))
        if _flat_paths(submission.answers).get(path) != _flat_paths(plain).get(path)
    )
    submission.answers = plain
    submission.sensitive = crypto.encrypt_json(sensitive) if sensitive else None
    submission.revision += 1
    submission.edited_by = acting_user
    submission.edited_at = timezone.now()
    submission.typed_pending = False
    submission.save(
        update_fields=[
            "answers",
            "sensitive",
            "revision",
            "edited_by",
            "edited_at",
            "typed_pending",
        ]
    )
    Answer.objects.filter(submission=submission).delete()
    insert_typed(typed_rows(submission, definition, plain, sensitive_names))
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="submission.edit",
        project=submission.project,
        target=submission,
        # Which questions changed, never their values: the audit log is not a raw-data store.
        detail={"revision": submission.revision, "reason": reason.strip(), "changed": changed[:50]},
    )
    data_state.bump([submission.form_id])
    return submission


def _decrypted(token: bytes | memoryview | None) -> dict[str, Any]:
    return crypto.decrypt_json(token) if token else {}


def _flat_paths(answers: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in answers.items():
        path = f"{prefix}{key}"
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for index, item in enumerate(value, start=1):
                flat.update(_flat_paths(item, f"{path}[{index}]."))
        else:
            flat[path] = value
    return flat
