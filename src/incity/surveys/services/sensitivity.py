"""Sensitive questions: which answers are stored encrypted, and key rotation.

Marking a question sensitive re-splits every stored submission of the project,
so its answers leave the plain record, the typed answers and derived stores.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.errors import InvalidInput
from incity.surveys import crypto, derived
from incity.surveys.definition import elements_by_name
from incity.surveys.models import (
    Answer,
    Form,
    FormVersion,
    Submission,
    SubmissionRevision,
    SurveySettings,
)
from incity.surveys.queries import (
    current_answers,
)
from incity.surveys.services import data_state
from incity.surveys.services.typed import TypedRow, insert_typed, typed_rows
from incity.surveys.validation import (
    split_sensitive,
)


@transaction.atomic
def set_sensitive_questions(
    *, acting_user: User | None, origin: Origin, project: Project, names: list[str]
) -> SurveySettings:
    """Mark question names sensitive in a project, re-encrypting the answers already stored."""
    known: set[str] = set()
    for definition in FormVersion.objects.filter(form__project=project).values_list(
        "definition", flat=True
    ):
        known.update(elements_by_name(definition))
    for definition in Form.objects.filter(project=project).values_list("draft", flat=True):
        known.update(elements_by_name(definition))
    cleaned = sorted({name.strip() for name in names if name.strip()})
    unknown = [name for name in cleaned if name not in known]
    if unknown:
        raise InvalidInput(
            "sensitive_questions",
            "No form in the project has a question named: " + ", ".join(unknown) + ".",
        )
    settings_row, _ = SurveySettings.objects.select_for_update().get_or_create(project=project)
    previous = frozenset(settings_row.sensitive_questions)
    settings_row.sensitive_questions = cleaned
    settings_row.updated_at = timezone.now()
    settings_row.save()
    resplit = _resplit_project(project, frozenset(cleaned)) if previous != set(cleaned) else 0
    if resplit:
        forms = set(Form.objects.filter(project=project).values_list("pk", flat=True))
        data_state.bump(forms)
        # Answers newly marked sensitive must leave the plain derived stores.
        transaction.on_commit(lambda: derived.purge(forms))
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="surveys.set_sensitive_questions",
        project=project,
        target=settings_row,
        detail={"questions": cleaned, "submissions_re_encrypted": resplit},
    )
    return settings_row


# Submissions split again per update, delete and insert.
RESPLIT_CHUNK = 500


def _resplit_project(project: Project, names: frozenset[str]) -> int:
    """Split every stored submission of the project again, RESPLIT_CHUNK at a time: one
    update, one delete and one insert of typed rows (with their areas) per chunk, not
    per submission."""
    count = 0
    chunk: list[Submission] = []
    rows = Submission.objects.filter(project=project).select_related("version")
    for submission in rows.iterator(chunk_size=RESPLIT_CHUNK):
        chunk.append(submission)
        if len(chunk) >= RESPLIT_CHUNK:
            count += _resplit(chunk, names)
            chunk = []
    return count + _resplit(chunk, names)


def _resplit(submissions: list[Submission], names: frozenset[str]) -> int:
    typed: list[TypedRow] = []
    for submission in submissions:
        definition = submission.version.definition
        plain, sensitive = split_sensitive(definition, current_answers(submission), names)
        submission.answers = plain
        submission.sensitive = crypto.encrypt_json(sensitive) if sensitive else None
        submission.typed_pending = False
        typed.extend(typed_rows(submission, definition, plain, names))
    if not submissions:
        return 0
    Submission.objects.bulk_update(submissions, ["answers", "sensitive", "typed_pending"])
    Answer.objects.filter(submission__in=[s.pk for s in submissions]).delete()
    insert_typed(typed)
    return len(submissions)


@transaction.atomic
def rotate_encryption(*, origin: Origin) -> int:
    """Re-encrypt every stored sensitive value with the newest key; returns how many."""
    crypto.check_keys()
    rotated = _rotate_rows(Submission.objects.exclude(sensitive=None)) + _rotate_rows(
        SubmissionRevision.objects.exclude(sensitive=None)
    )
    record(
        actor=None,
        origin=origin,
        kind=AuditKind.WRITE,
        action="surveys.rotate_encryption",
        detail={"values_re_encrypted": rotated},
    )
    return rotated


def _rotate_rows(rows: QuerySet[Any]) -> int:
    batch: list[Any] = []
    rotated = 0
    for row in rows.only("pk", "sensitive").iterator(chunk_size=500):
        row.sensitive = crypto.rotate(row.sensitive)
        batch.append(row)
        if len(batch) >= 500:
            rows.model.objects.bulk_update(batch, ["sensitive"])
            rotated += len(batch)
            batch = []
    rows.model.objects.bulk_update(batch, ["sensitive"])
    return rotated + len(batch)
