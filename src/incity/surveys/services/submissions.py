"""Storing submissions, one or a batch of up to 1,000.

A submission is stored once: its instance id is unique in its form, a retry
gets the stored record back, and an instance id whose answers were withdrawn
is acknowledged without storing them again.

The other writes to submissions have modules beside this one: review.py
(approve, flag, reject, edit), withdrawal.py, sensitivity.py (sensitive
questions, key rotation), typed.py (the derived typed answers) and
attachments.py (files sent with OpenRosa submissions).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.utils import timezone

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, InvalidInput
from incity.places.answers import outside_area_errors
from incity.surveys import consent, crypto
from incity.surveys.models import (
    Form,
    FormStatus,
    FormVersion,
    Respondent,
    Submission,
    WithdrawnInstance,
)
from incity.surveys.queries import (
    get_form,
    project_sensitive_names,
)
from incity.surveys.services import data_state
from incity.surveys.services.bulk import bulk_insert
from incity.surveys.services.outcomes import SubmissionInvalid
from incity.surveys.services.typed import TypedRow, insert_typed, typed_rows
from incity.surveys.validation import (
    PreparedForm,
    prepare,
    split_sensitive,
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
                typed_rows(
                    submission, context.prepared_for(p.version), p.plain, context.sensitive_names
                )
            )
        insert_typed(typed)
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
