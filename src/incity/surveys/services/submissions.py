"""Every write to submissions: store (one or a batch), review, edit, withdraw, re-encrypt.

A submission is stored once: its instance id is unique in its form, a retry
gets the stored record back, and an instance id whose answers were withdrawn
is acknowledged without storing them again.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, InvalidInput, NotFound
from incity.places.answers import outside_area_errors
from incity.surveys import consent, crypto, derived
from incity.surveys.definition import FormDefinition, elements_by_name
from incity.surveys.models import (
    Answer,
    Form,
    FormStatus,
    FormVersion,
    Respondent,
    Submission,
    SubmissionRevision,
    SubmissionStatus,
    SurveySettings,
    Tombstone,
    WithdrawnInstance,
)
from incity.surveys.queries import current_answers, get_form, get_submission
from incity.surveys.services import data_state
from incity.surveys.services.bulk import bulk_insert
from incity.surveys.validation import (
    PreparedForm,
    prepare,
    split_sensitive,
    typed_values,
    validate_answers,
)

INSTANCE_ID = re.compile(r"^[A-Za-z0-9:._-]{1,100}$")
DEVICE_ID_MAX = 100
# Devices' clocks drift; a start or end time further ahead than this is an error.
CLOCK_SKEW = timedelta(hours=24)

Outcome = Literal["created", "duplicate", "withdrawn", "invalid"]


@dataclass(frozen=True)
class SubmissionInput:
    instance_id: str
    answers: dict[str, Any]
    language: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    device_id: str = ""
    version: int | None = None
    consent_accepted: bool | None = None
    respondent_code: str = ""


@dataclass
class SubmitResult:
    outcome: Outcome
    instance_id: str
    submission: Submission | None = None
    errors: dict[str, str] = field(default_factory=dict)
    # Shown once to whoever collected the answers, to hand to the respondent.
    withdrawal_code: str = ""


class SubmissionInvalid(InvalidInput):
    """422 with one message per field; nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        count = len(errors)
        noun = "problem" if count == 1 else "problems"
        first_path, first_message = next(iter(errors.items()))
        super().__init__(
            first_path,
            f"The submission has {count} {noun}, nothing was stored; "
            f"first, {first_path}: {first_message}",
            errors=errors,
        )
        self.errors = errors


@dataclass
class _Context:
    """Everything about a form that checking a submission needs, loaded once per request."""

    form: Form
    project: Project
    versions: dict[int, FormVersion]
    latest: FormVersion
    sensitive_names: frozenset[str]
    user: User | None
    origin: Origin
    is_synthetic: bool
    # Each version's definition indexed once per request, not once per submission.
    prepared: dict[int, PreparedForm] = field(default_factory=dict)

    def prepared_for(self, version: FormVersion) -> PreparedForm:
        if version.number not in self.prepared:
            self.prepared[version.number] = prepare(version.definition)
        return self.prepared[version.number]


@dataclass
class _Prepared:
    item: SubmissionInput
    version: FormVersion
    plain: dict[str, Any]
    sensitive: dict[str, Any]
    language: str
    respondent: Respondent | None
    new_respondent: Respondent | None


def project_sensitive_names(project: Project) -> frozenset[str]:
    names = (
        SurveySettings.objects.filter(project=project)
        .values_list("sensitive_questions", flat=True)
        .first()
    )
    return frozenset(names or [])


def _load_context(user: User | None, origin: Origin, form_pk: int, is_synthetic: bool) -> _Context:
    form = get_form(user, form_pk, ProjectAction.COLLECT)
    if form.status != FormStatus.OPEN:
        reason = "is closed" if form.status == FormStatus.CLOSED else "has not been published"
        raise Conflict(f"The form '{form.form_id}' {reason}; it takes no answers.", form=form.pk)
    if user is None and form.project.state != "active":
        raise Conflict(
            f"The project '{form.project.slug}' is {form.project.state}; it takes no answers."
        )
    versions = {version.number: version for version in form.versions.all()}
    return _Context(
        form=form,
        project=form.project,
        versions=versions,
        latest=versions[max(versions)],
        sensitive_names=project_sensitive_names(form.project),
        user=user,
        origin=origin,
        is_synthetic=is_synthetic or form.is_synthetic,
    )


def _check_envelope(
    context: _Context, item: SubmissionInput
) -> tuple[FormVersion | None, dict[str, str]]:
    """Checks on everything but the answers: id, version, language, times, consent."""
    errors: dict[str, str] = {}
    if not INSTANCE_ID.match(item.instance_id or ""):
        errors["instance_id"] = (
            "The instance id must be 1 to 100 letters, digits or ':._-' (for example 'uuid:…')."
        )
    version = context.latest if item.version is None else context.versions.get(item.version)
    if version is None:
        known = ", ".join(str(number) for number in sorted(context.versions))
        errors["version"] = f"The form has no version {item.version}; it has {known}."
    elif item.language and item.language not in version.definition["languages"]:
        errors["language"] = (
            f"'{item.language}' is not one of the form's languages: "
            + ", ".join(version.definition["languages"])
            + "."
        )
    now = timezone.now()
    for name, moment in (("started_at", item.started_at), ("ended_at", item.ended_at)):
        if moment is not None and moment > now + CLOCK_SKEW:
            errors[name] = "This time is in the future; check the device's clock."
    if item.started_at and item.ended_at and item.ended_at < item.started_at:
        errors["ended_at"] = "The end time is before the start time."
    if len(item.device_id) > DEVICE_ID_MAX:
        errors["device_id"] = f"The device id is longer than {DEVICE_ID_MAX} characters."
    if version is not None and version.consent_required and item.consent_accepted is not True:
        errors["consent"] = (
            "This form needs the respondent's consent: show the information sheet and send "
            "consent.accepted = true. Nothing is stored without it."
        )
    if not isinstance(item.answers, dict):
        errors["answers"] = "The answers must be an object keyed by question name."
    return version, errors


def _prepare(
    context: _Context, item: SubmissionInput, respondents: dict[str, Respondent]
) -> _Prepared | dict[str, str]:
    version, errors = _check_envelope(context, item)
    respondent: Respondent | None = None
    if item.respondent_code:
        respondent = respondents.get(consent.normalise_code(item.respondent_code))
        if respondent is None:
            errors["respondent"] = "No respondent in this project has that withdrawal code."
    if version is None or errors.get("answers"):
        return errors
    form = context.prepared_for(version)
    result = validate_answers(form, item.answers)
    errors.update(result.errors)
    if errors:
        return errors
    # Map answers outside the project's area are refused (places/answers.py).
    errors.update(outside_area_errors(context.project, form, result.answers))
    if errors:
        return errors
    plain, sensitive = split_sensitive(
        form, result.answers, context.sensitive_names, copy_values=False
    )
    language = item.language or version.definition["default_language"]
    new_respondent = None
    if respondent is None:
        sheet = version.consent_sheet.get(language, "") if version.consent_required else ""
        new_respondent = Respondent(
            project=context.project,
            withdrawal_code=consent.new_withdrawal_code(),
            consent_given_at=timezone.now() if version.consent_required else None,
            consent_language=language if version.consent_required else "",
            consent_sheet_hash=consent.sheet_hash(sheet) if sheet else "",
            consent_version=version if version.consent_required else None,
        )
    return _Prepared(
        item=item,
        version=version,
        plain=plain,
        sensitive=sensitive,
        language=language,
        respondent=respondent,
        new_respondent=new_respondent,
    )


_TYPED_COLUMNS = (
    "submission_id",
    "form_id",
    "path",
    "name",
    "repeat_path",
    "kind",
    "text",
    "number",
    "date",
    "geometry",
    "lat",
    "lon",
)
TypedRow = tuple[Any, ...]


def _typed_rows(
    submission: Submission,
    form: FormDefinition | PreparedForm,
    answers: dict[str, Any],
    skip: frozenset[str],
) -> list[TypedRow]:
    return [
        (
            submission.pk,
            submission.form_id,
            value.path,
            value.name,
            value.repeat_path,
            value.kind,
            value.text,
            value.number,
            value.date,
            json.dumps(value.geometry) if value.geometry is not None else None,
            value.lat,
            value.lon,
        )
        for value in typed_values(form, answers)
        if value.name not in skip
    ]


def _insert_typed(rows: list[TypedRow]) -> None:
    """Insert typed answers with one prepared statement.

    A batch of 1,000 submissions has some 50,000 typed values; building model
    instances for them cost more than validating the answers, so they go in as
    plain tuples (measured in bench/surveys_bench.py).
    """
    if not rows:
        return
    table = connection.ops.quote_name(Answer._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _TYPED_COLUMNS)
    if connection.vendor == "postgresql":
        # COPY is PostgreSQL's bulk path: ten times faster than row inserts here.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("%s" for _ in _TYPED_COLUMNS)
    with connection.cursor() as cursor:
        # Table and column names are our own constants, quoted; values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, rows)


def _store(
    context: _Context, prepared: list[_Prepared], *, derive_now: bool
) -> list[tuple[Submission, str]]:
    """Insert prepared submissions with their respondents and audit rows.

    With `derive_now` the typed answers are written too; otherwise the submissions
    are marked `typed_pending` and `derive_typed_answers` writes them later. Typed
    rows are most of the cost of a batch (some 50 per submission), and the raw
    submission is the record of truth, so a batch stores that first.
    """
    new_respondents = [p.new_respondent for p in prepared if p.new_respondent is not None]
    bulk_insert(new_respondents)
    submissions = [
        Submission(
            project=context.project,
            form=context.form,
            version=p.version,
            instance_id=p.item.instance_id,
            answers=p.plain,
            sensitive=crypto.encrypt_json(p.sensitive) if p.sensitive else None,
            language=p.language,
            started_at=p.item.started_at,
            ended_at=p.item.ended_at,
            collected_by=context.user,
            device_id=p.item.device_id,
            channel=context.origin.channel,
            respondent=p.new_respondent or p.respondent,
            is_synthetic=context.is_synthetic,
            typed_pending=not derive_now,
        )
        for p in prepared
    ]
    bulk_insert(submissions)
    if derive_now:
        typed: list[TypedRow] = []
        for submission, p in zip(submissions, prepared, strict=True):
            typed.extend(
                _typed_rows(
                    submission, context.prepared_for(p.version), p.plain, context.sensitive_names
                )
            )
        _insert_typed(typed)
    if len(submissions) == 1:
        record(
            actor=context.user,
            origin=context.origin,
            kind=AuditKind.WRITE,
            action="submission.create",
            project=context.project,
            target=submissions[0],
            detail={"form": context.form.pk, "instance_id": submissions[0].instance_id},
        )
    elif submissions:
        # One row for the batch, naming every submission it stored.
        record(
            actor=context.user,
            origin=context.origin,
            kind=AuditKind.WRITE,
            action="submission.create_batch",
            project=context.project,
            target=context.form,
            detail={
                "form": context.form.pk,
                "count": len(submissions),
                "submissions": [submission.pk for submission in submissions],
            },
        )
    if submissions:
        data_state.bump([context.form.pk])
    return [
        (submission, p.new_respondent.withdrawal_code if p.new_respondent else "")
        for submission, p in zip(submissions, prepared, strict=True)
    ]


def _existing(form: Form, instance_ids: Iterable[str]) -> tuple[dict[str, Submission], set[str]]:
    ids = list(instance_ids)
    stored = {
        submission.instance_id: submission
        for submission in Submission.objects.filter(form=form, instance_id__in=ids).select_related(
            "version", "collected_by", "respondent"
        )
    }
    withdrawn = set(
        WithdrawnInstance.objects.filter(form=form, instance_id__in=ids).values_list(
            "instance_id", flat=True
        )
    )
    return stored, withdrawn


def _respondents_by_code(
    project: Project, items: Sequence[SubmissionInput]
) -> dict[str, Respondent]:
    codes = {consent.normalise_code(item.respondent_code) for item in items if item.respondent_code}
    if not codes:
        return {}
    return {
        respondent.withdrawal_code: respondent
        for respondent in Respondent.objects.filter(project=project, withdrawal_code__in=codes)
    }


def _duplicate(context: _Context, stored: Submission) -> SubmitResult:
    # The code goes back only to the person who collected the answers in the first place.
    same_collector = context.user is not None and stored.collected_by_id == context.user.pk
    code = stored.respondent.withdrawal_code if same_collector and stored.respondent else ""
    return SubmitResult("duplicate", stored.instance_id, stored, withdrawal_code=code)


def _submit_many(
    context: _Context, items: Sequence[SubmissionInput], *, derive_now: bool
) -> list[SubmitResult]:
    stored, withdrawn = _existing(context.form, (item.instance_id for item in items))
    respondents = _respondents_by_code(context.project, items)
    results: list[SubmitResult | None] = []
    to_store: list[_Prepared] = []
    positions: list[int] = []
    seen: set[str] = set()
    for item in items:
        if item.instance_id in stored:
            results.append(_duplicate(context, stored[item.instance_id]))
            continue
        if item.instance_id in withdrawn:
            results.append(SubmitResult("withdrawn", item.instance_id))
            continue
        if item.instance_id in seen:
            results.append(
                SubmitResult(
                    "invalid",
                    item.instance_id,
                    errors={"instance_id": "This instance id appears twice in the batch."},
                )
            )
            continue
        prepared = _prepare(context, item, respondents)
        if isinstance(prepared, dict):
            results.append(SubmitResult("invalid", item.instance_id, errors=prepared))
            continue
        seen.add(item.instance_id)
        positions.append(len(results))
        results.append(None)
        to_store.append(prepared)
    for position, (submission, code) in zip(
        positions, _store(context, to_store, derive_now=derive_now), strict=True
    ):
        results[position] = SubmitResult(
            "created", submission.instance_id, submission, withdrawal_code=code
        )
    return [result for result in results if result is not None]


def submit(
    *,
    acting_user: User | None,
    origin: Origin,
    form_pk: int,
    item: SubmissionInput,
    is_synthetic: bool = False,
) -> SubmitResult:
    """Store one submission; raises SubmissionInvalid (422) if any answer is wrong."""
    context = _load_context(acting_user, origin, form_pk, is_synthetic)
    try:
        with transaction.atomic():
            result = _submit_many(context, [item], derive_now=True)[0]
    except IntegrityError:
        # Another request stored the same instance id between our check and insert.
        stored, _ = _existing(context.form, [item.instance_id])
        if item.instance_id not in stored:
            raise
        return _duplicate(context, stored[item.instance_id])
    if result.outcome == "invalid":
        raise SubmissionInvalid(result.errors)
    return result


def submit_batch(
    *,
    acting_user: User | None,
    origin: Origin,
    form_pk: int,
    items: Sequence[SubmissionInput],
    is_synthetic: bool = False,
    limit: int = 1000,
) -> list[SubmitResult]:
    """Store many submissions; each gets its own result and a bad one does not stop the rest."""
    if not items:
        raise InvalidInput("submissions", "The batch is empty.")
    if len(items) > limit:
        raise InvalidInput(
            "submissions", f"The batch has {len(items)} submissions; the limit is {limit}."
        )
    context = _load_context(acting_user, origin, form_pk, is_synthetic)
    try:
        with transaction.atomic(), _no_cyclic_collection():
            return _submit_many(context, items, derive_now=False)
    except IntegrityError:
        # A concurrent request stored some of these ids; take them one at a time.
        return [
            _submit_one_lenient(acting_user, origin, form_pk, item, is_synthetic) for item in items
        ]


@contextmanager
def _no_cyclic_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a batch builds its many small objects.

    A batch allocates some hundred thousand dicts, lists and model instances that
    reference counting frees; the cycle collector kept scanning them (measured in
    bench/surveys_bench.py). It is paused for the batch only, and resumed even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _submit_one_lenient(
    user: User | None, origin: Origin, form_pk: int, item: SubmissionInput, is_synthetic: bool
) -> SubmitResult:
    try:
        return submit(
            acting_user=user, origin=origin, form_pk=form_pk, item=item, is_synthetic=is_synthetic
        )
    except SubmissionInvalid as invalid:
        return SubmitResult("invalid", item.instance_id, errors=invalid.errors)


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
    _insert_typed(_typed_rows(submission, definition, plain, sensitive_names))
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


@dataclass(frozen=True)
class WithdrawalResult:
    tombstone: Tombstone
    already: bool


@transaction.atomic
def withdraw(*, origin: Origin, code: str, acting_user: User | None = None) -> WithdrawalResult:
    """Remove every answer held under a withdrawal code, leaving an audited tombstone.

    Anyone holding the code may do this (it is the respondent's own key); the code
    can delete but never read.
    """
    normalised = consent.normalise_code(code or "")
    if not consent.is_well_formed(normalised):
        raise InvalidInput(
            "code",
            f"A withdrawal code has {consent.CODE_LENGTH} letters and digits, "
            "like ABCD-EFGH-JK; check the code and try again.",
        )
    hashed = consent.code_hash(normalised)
    respondent = (
        Respondent.objects.select_for_update()
        .select_related("project")
        .filter(withdrawal_code=normalised)
        .first()
    )
    if respondent is None:
        tombstone = Tombstone.objects.filter(code_hash=hashed).first()
        if tombstone is not None:
            return WithdrawalResult(tombstone, already=True)
        raise NotFound("No answers are held under this code; check it and try again.")
    submissions = list(respondent.submissions.values_list("pk", "form_id", "instance_id"))
    tombstone = Tombstone.objects.create(
        project=respondent.project,
        code_hash=hashed,
        submissions_removed=len(submissions),
        channel=origin.channel,
    )
    WithdrawnInstance.objects.bulk_create(
        WithdrawnInstance(tombstone=tombstone, form_id=form_id, instance_id=instance_id)
        for _, form_id, instance_id in submissions
    )
    # Typed answers and revisions go with their submissions (on_delete=CASCADE).
    Submission.objects.filter(respondent=respondent).delete()
    respondent.delete()
    forms = {form_id for _, form_id, _ in submissions}
    data_state.bump(forms)
    # Files and caches derived from those answers go once the deletion is committed.
    transaction.on_commit(lambda: derived.purge(forms))
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="consent.withdraw",
        project=tombstone.project,
        target=tombstone,
        detail={"submissions_removed": len(submissions)},
    )
    return WithdrawalResult(tombstone, already=False)


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


def _resplit_project(project: Project, names: frozenset[str]) -> int:
    count = 0
    for submission in (
        Submission.objects.filter(project=project)
        .select_related("version")
        .iterator(chunk_size=500)
    ):
        definition = submission.version.definition
        plain, sensitive = split_sensitive(definition, current_answers(submission), names)
        submission.answers = plain
        submission.sensitive = crypto.encrypt_json(sensitive) if sensitive else None
        submission.typed_pending = False
        submission.save(update_fields=["answers", "sensitive", "typed_pending"])
        Answer.objects.filter(submission=submission).delete()
        _insert_typed(_typed_rows(submission, definition, plain, names))
        count += 1
    return count


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


def derive_typed_answers(*, form: Form | None = None, chunk: int = 500) -> int:
    """Write the typed answers of submissions stored without them; returns how many.

    Readers of typed answers call this first (it does nothing when none are pending);
    `incity forms derive` runs it by hand.
    """
    pending = Submission.objects.filter(typed_pending=True)
    if form is not None:
        pending = pending.filter(form=form)
    derived = 0
    prepared: dict[int, PreparedForm] = {}
    names_by_project: dict[int, frozenset[str]] = {}
    while True:
        with transaction.atomic():
            batch = list(pending.select_related("version", "project").order_by("pk")[:chunk])
            if not batch:
                return derived
            rows: list[TypedRow] = []
            for submission in batch:
                version = submission.version
                if version.pk not in prepared:
                    prepared[version.pk] = prepare(version.definition)
                if submission.project_id not in names_by_project:
                    names_by_project[submission.project_id] = project_sensitive_names(
                        submission.project
                    )
                rows.extend(
                    _typed_rows(
                        submission,
                        prepared[version.pk],
                        submission.answers,
                        names_by_project[submission.project_id],
                    )
                )
            # A concurrent deriver may have done some already: start them afresh.
            Answer.objects.filter(submission__in=batch).delete()
            _insert_typed(rows)
            Submission.objects.filter(pk__in=[s.pk for s in batch]).update(typed_pending=False)
            derived += len(batch)


def rebuild_answers(*, form: Form) -> int:
    """Derive the typed answers of a form again from its raw submissions."""
    names = project_sensitive_names(form.project)
    with transaction.atomic():
        Answer.objects.filter(form=form).delete()
        rows: list[TypedRow] = []
        for submission in form.submissions.select_related("version").iterator(chunk_size=500):
            rows.extend(
                _typed_rows(submission, submission.version.definition, submission.answers, names)
            )
        _insert_typed(rows)
        form.submissions.filter(typed_pending=True).update(typed_pending=False)
    return len(rows)


# --------------------------------------------------------------------------------------
# Attachments: the files a submission's answers name (photos, recordings), as sent by
# OpenRosa clients. Its imports are here so that the section stays one addition.
# --------------------------------------------------------------------------------------

import hashlib  # noqa: E402

from django.core.files.base import File  # noqa: E402

from incity.errors import Forbidden  # noqa: E402
from incity.surveys.models import SubmissionAttachment  # noqa: E402

# Question types whose answer is the name of a file the device sends beside the answers.
ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file", "audit", "background-audio"})


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    # A Django File (an upload): read in chunks, never whole into memory.
    content: Any
    content_type: str = ""


def attachment_names(definition: FormDefinition, answers: dict[str, Any]) -> set[str]:
    """The file names the answers give for photo, audio, video, file and audit questions."""
    names: set[str] = set()
    _collect_attachment_names(definition["children"], answers, names)
    return names


def _collect_attachment_names(
    elements: Sequence[Any], answers: dict[str, Any], names: set[str]
) -> None:
    for element in elements:
        kind, name = element["type"], element["name"]
        if kind == "group":
            _collect_attachment_names(element.get("children", []), answers, names)
        elif kind == "repeat":
            entries = answers.get(name)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    _collect_attachment_names(element.get("children", []), entry, names)
        elif kind in ATTACHMENT_TYPES and isinstance(answers.get(name), str) and answers[name]:
            names.add(answers[name])


def attach_files(
    *,
    acting_user: User | None,
    origin: Origin,
    submission: Submission,
    files: Sequence[AttachmentInput],
    max_bytes: int,
) -> list[SubmissionAttachment]:
    """Store the files a stored submission's answers name; a name already attached is skipped.

    Only whoever collected the submission may add its files (a phone that split a large
    submission over several requests sends the rest later). Refuses, storing nothing, a file
    the answers do not name, an empty one or one over `max_bytes`. Returns the new rows.
    """
    if not files:
        return []
    if acting_user is not None and submission.collected_by_id != acting_user.pk:
        raise Forbidden("Only whoever collected a submission may add its files.")
    named = attachment_names(submission.version.definition, current_answers(submission))
    for item in files:
        if item.filename not in named:
            raise InvalidInput(
                "attachments",
                f"The file '{item.filename}' is not named by any answer of the submission.",
            )
        if item.content.size == 0:
            raise InvalidInput("attachments", f"The file '{item.filename}' is empty.")
        if item.content.size > max_bytes:
            raise InvalidInput(
                "attachments",
                f"The file '{item.filename}' is larger than {max_bytes // (1024 * 1024)} MB.",
            )
    present = set(submission.attachments.values_list("filename", flat=True))
    stored: list[SubmissionAttachment] = []
    try:
        with transaction.atomic():
            for item in files:
                if item.filename in present:
                    continue
                digest = hashlib.md5(usedforsecurity=False)
                for chunk in item.content.chunks():
                    digest.update(chunk)
                item.content.seek(0)
                attachment = SubmissionAttachment(
                    submission=submission,
                    filename=item.filename,
                    content_type=item.content_type[:100],
                    size=item.content.size,
                    md5=digest.hexdigest(),
                )
                attachment.file.save(item.filename, File(item.content), save=False)
                stored.append(attachment)
                attachment.save()
                present.add(item.filename)
            if stored:
                record(
                    actor=acting_user,
                    origin=origin,
                    kind=AuditKind.WRITE,
                    action="submission.attach_files",
                    project=submission.project,
                    target=submission,
                    detail={
                        "files": [a.filename for a in stored],
                        "bytes": sum(a.size for a in stored),
                    },
                )
    except BaseException:
        # The rows rolled back; the files written so far must not stay behind.
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return stored
