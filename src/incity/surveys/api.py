"""API for the module library, forms, XLSForm import and export, submissions and consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BaseModel

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput
from incity.surveys import modules, queries
from incity.surveys.models import Form, FormVersion, Submission, SubmissionRevision
from incity.surveys.services import forms as form_services
from incity.surveys.services import submissions as submission_services
from incity.surveys.services.submissions import SubmissionInput, SubmitResult
from incity.surveys.xlsform import write_xlsform

router = Router(tags=["surveys"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request, channel="api")


# --- module library -------------------------------------------------------------------


class ModuleOut(Schema):
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    version: str
    languages: list[str]
    question_count: int
    domains: list[str]


@router.get("/modules", response=list[ModuleOut], auth=None)
def list_modules(request: HttpRequest) -> list[Any]:
    """The module library: reusable blocks of questions tagged to framework domains."""
    return list(modules.list_modules())


@router.get("/modules/{slug}", auth=None)
def get_module(request: HttpRequest, slug: str) -> dict[str, Any]:
    return modules.get_module(slug)


# --- forms ---------------------------------------------------------------------------


class VersionOut(Schema):
    number: int
    question_count: int
    content_hash: str
    consent_required: bool
    published_at: datetime
    published_by: str | None


class FormOut(Schema):
    id: int
    form_id: str
    title: str
    project: str
    status: str
    languages: list[str]
    questions: int
    consent_required: bool
    consent_sheet: dict[str, str]
    latest_version: int | None
    missing_files: list[str]
    is_synthetic: bool


def _version_out(version: FormVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "question_count": version.question_count,
        "content_hash": version.content_hash,
        "consent_required": version.consent_required,
        "published_at": version.published_at,
        "published_by": version.published_by.username if version.published_by else None,
    }


def _form_out(form: Form) -> dict[str, Any]:
    latest = form.latest_version()
    return {
        "id": form.pk,
        "form_id": form.form_id,
        "title": form.title,
        "project": form.project.slug,
        "status": form.status,
        "languages": form.draft["languages"],
        "questions": form_services.count_questions(form.draft),
        "consent_required": form.consent_required,
        "consent_sheet": form.consent_sheet,
        "latest_version": latest.number if latest else None,
        "missing_files": form_services.missing_files(form),
        "is_synthetic": form.is_synthetic,
    }


class FormIn(Schema):
    """Either a whole definition, or modules to compose one from."""

    definition: dict[str, Any] | None = None
    modules: list[str] | None = None
    form_id: str | None = Field(None, max_length=100)
    title: str | None = Field(None, max_length=255)
    languages: list[str] | None = None
    consent_required: bool = True
    consent_sheet: dict[str, str] | None = None


@router.get("/projects/{slug}/forms", response=list[FormOut])
def list_forms(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    project = access.get_project(_user(request), slug, ProjectAction.VIEW_PROJECT)
    return [_form_out(form) for form in project.forms.select_related("project")]


@router.post("/projects/{slug}/forms", response={201: FormOut})
def create_form(request: HttpRequest, slug: str, payload: FormIn) -> Status:
    user, origin = _user(request), _origin(request)
    if payload.definition is not None and payload.modules is not None:
        raise InvalidInput("definition", "Send either a definition or modules, not both.")
    if payload.modules is not None:
        if not payload.form_id or not payload.title:
            raise InvalidInput("form_id", "A form built from modules needs a form_id and a title.")
        form = form_services.create_form_from_modules(
            acting_user=user,
            origin=origin,
            project_slug=slug,
            form_id=payload.form_id,
            title=payload.title,
            module_slugs=payload.modules,
            languages=payload.languages,
            consent_required=payload.consent_required,
        )
    elif payload.definition is not None:
        form = form_services.create_form(
            acting_user=user,
            origin=origin,
            project_slug=slug,
            definition=payload.definition,
            consent_required=payload.consent_required,
            consent_sheet=payload.consent_sheet,
        )
    else:
        raise InvalidInput("definition", "Send a form definition, or a list of modules.")
    return Status(201, _form_out(form))


class ImportOut(Schema):
    form: int
    form_id: str
    status: str
    version: int | None
    questions: int
    languages: list[str]
    warnings: list[str]
    missing_files: list[str]


@router.post("/projects/{slug}/forms/import", response={201: ImportOut, 200: ImportOut})
def import_xlsform(request: HttpRequest, slug: str, file: File[UploadedFile]) -> Status:
    """Import an XLSForm (.xlsx, .xls, .csv or .md); a form_id already in the project gets a new version."""
    size = file.size or 0
    if size > settings.FORM_UPLOAD_MAX_BYTES:
        limit = settings.FORM_UPLOAD_MAX_BYTES // 1024 // 1024
        raise InvalidInput("file", f"The file is larger than the {limit} MB limit for XLSForms.")
    result = form_services.import_xlsform(
        acting_user=_user(request),
        origin=_origin(request),
        project_slug=slug,
        data=file.read(),
        filename=file.name or "form.xlsx",
    )
    return Status(201 if result.created else 200, result.as_json())


@router.get("/forms/{form}", response=FormOut)
def get_form(request: HttpRequest, form: int) -> dict[str, Any]:
    return _form_out(queries.get_form(_user(request), form, ProjectAction.VIEW_PROJECT))


@router.get("/forms/{form}/draft")
def get_draft(request: HttpRequest, form: int) -> dict[str, Any]:
    return queries.get_form(_user(request), form, ProjectAction.VIEW_PROJECT).draft


class DraftIn(Schema):
    definition: dict[str, Any]


@router.put("/forms/{form}/draft", response=FormOut)
def put_draft(request: HttpRequest, form: int, payload: DraftIn) -> dict[str, Any]:
    updated = form_services.update_draft(
        acting_user=_user(request),
        origin=_origin(request),
        form_pk=form,
        definition=payload.definition,
    )
    return _form_out(updated)


class ConsentIn(Schema):
    required: bool
    sheet: dict[str, str] = {}


@router.put("/forms/{form}/consent", response=FormOut)
def put_consent(request: HttpRequest, form: int, payload: ConsentIn) -> dict[str, Any]:
    updated = form_services.set_consent(
        acting_user=_user(request),
        origin=_origin(request),
        form_pk=form,
        required=payload.required,
        sheet=payload.sheet,
    )
    return _form_out(updated)


@router.post("/forms/{form}/publish", response={201: VersionOut})
def publish(request: HttpRequest, form: int) -> Status:
    version = form_services.publish_form(
        acting_user=_user(request), origin=_origin(request), form_pk=form
    )
    return Status(201, _version_out(version))


class FormStatusIn(Schema):
    status: Literal["open", "closed"]


@router.post("/forms/{form}/status", response=FormOut)
def set_status(request: HttpRequest, form: int, payload: FormStatusIn) -> dict[str, Any]:
    updated = form_services.set_form_status(
        acting_user=_user(request), origin=_origin(request), form_pk=form, status=payload.status
    )
    return _form_out(updated)


@router.get("/forms/{form}/versions", response=list[VersionOut])
def list_versions(request: HttpRequest, form: int) -> list[dict[str, Any]]:
    found = queries.get_form(_user(request), form, ProjectAction.VIEW_PROJECT)
    return [_version_out(v) for v in found.versions.select_related("published_by")]


@router.get("/forms/{form}/versions/{number}")
def get_version(request: HttpRequest, form: int, number: int) -> dict[str, Any]:
    found = queries.get_form(_user(request), form, ProjectAction.VIEW_PROJECT)
    version = queries.get_version(found, number)
    return {**_version_out(version), "definition": version.definition}


@router.get("/forms/{form}/xlsform")
def download_xlsform(request: HttpRequest, form: int, version: int | None = None) -> HttpResponse:
    """The form as an XLSForm (.xlsx): the draft, or a published version with ?version=N."""
    found = queries.get_form(_user(request), form, ProjectAction.VIEW_PROJECT)
    definition = found.draft if version is None else queries.get_version(found, version).definition
    response = HttpResponse(write_xlsform(definition), content_type=XLSX)
    suffix = f"-v{version}" if version is not None else "-draft"
    response["Content-Disposition"] = f'attachment; filename="{found.form_id}{suffix}.xlsx"'
    return response


class MediaOut(Schema):
    filename: str
    size: int
    md5: str
    missing_files: list[str]


@router.post("/forms/{form}/media", response={201: MediaOut})
def upload_media(request: HttpRequest, form: int, file: File[UploadedFile]) -> Status:
    size = file.size or 0
    if size > settings.FORM_MEDIA_MAX_BYTES:
        limit = settings.FORM_MEDIA_MAX_BYTES // 1024 // 1024
        raise InvalidInput("file", f"The file is larger than the {limit} MB limit for media files.")
    media = form_services.upload_media(
        acting_user=_user(request),
        origin=_origin(request),
        form_pk=form,
        filename=file.name or "",
        content=file.read(),
    )
    missing = form_services.missing_files(media.form)
    return Status(
        201,
        {
            "filename": media.filename,
            "size": media.size,
            "md5": media.md5,
            "missing_files": missing,
        },
    )


class SensitiveIn(Schema):
    questions: list[str]


@router.put("/projects/{slug}/sensitive-questions")
def put_sensitive(request: HttpRequest, slug: str, payload: SensitiveIn) -> dict[str, Any]:
    """Mark question names whose answers are encrypted at rest (stored answers are re-encrypted)."""
    user = _user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    row = submission_services.set_sensitive_questions(
        acting_user=user, origin=_origin(request), project=project, names=payload.questions
    )
    return {"questions": row.sensitive_questions}


# --- submissions ---------------------------------------------------------------------


# Submissions arrive a thousand at a time: plain pydantic models, because ninja's Schema
# adds a per-object validator (for reading ORM objects) that cost a tenth of a batch.
class ConsentAnswer(BaseModel):
    accepted: bool


class SubmissionIn(BaseModel):
    instance_id: str = Field(..., description="The client's id for this answer set, e.g. 'uuid:…'")
    answers: dict[str, Any]
    language: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    device_id: str = ""
    version: int | None = Field(None, description="The form version answered; the latest if absent")
    consent: ConsentAnswer | None = None
    respondent: str = Field(
        "", description="A respondent's withdrawal code, to link a later answer"
    )

    def to_input(self) -> SubmissionInput:
        return SubmissionInput(
            instance_id=self.instance_id,
            answers=self.answers,
            language=self.language,
            started_at=self.started_at,
            ended_at=self.ended_at,
            device_id=self.device_id,
            version=self.version,
            consent_accepted=self.consent.accepted if self.consent else None,
            respondent_code=self.respondent,
        )


class StoredOut(BaseModel):
    id: int | None
    instance_id: str
    outcome: str
    version: int | None
    status: str | None
    received_at: datetime | None
    withdrawal_code: str
    errors: dict[str, str]


def _stored_out(result: SubmitResult) -> dict[str, Any]:
    submission = result.submission
    return {
        "id": submission.pk if submission else None,
        "instance_id": result.instance_id,
        "outcome": result.outcome,
        "version": submission.version.number if submission else None,
        "status": submission.status if submission else None,
        "received_at": submission.received_at if submission else None,
        "withdrawal_code": result.withdrawal_code,
        "errors": result.errors,
    }


@router.post("/forms/{form}/submissions", response={201: StoredOut, 200: StoredOut})
def submit(request: HttpRequest, form: int, payload: SubmissionIn) -> Status:
    """Store one submission: 201 when stored, 200 when this instance id was already received
    (or withdrawn), 422 with a message per field when an answer is wrong."""
    result = submission_services.submit(
        acting_user=_user(request), origin=_origin(request), form_pk=form, item=payload.to_input()
    )
    return Status(201 if result.outcome == "created" else 200, _stored_out(result))


class BatchIn(BaseModel):
    submissions: list[SubmissionIn]


class BatchOut(BaseModel):
    created: int
    duplicates: int
    withdrawn: int
    invalid: int
    results: list[StoredOut]


@router.post("/forms/{form}/submissions/batch", response=BatchOut)
def submit_batch(request: HttpRequest, form: int, payload: BatchIn) -> dict[str, Any]:
    """Up to 1,000 submissions at once, each with its own result."""
    results = submission_services.submit_batch(
        acting_user=_user(request),
        origin=_origin(request),
        form_pk=form,
        items=[item.to_input() for item in payload.submissions],
        limit=settings.SUBMISSION_BATCH_MAX,
    )
    counts = {outcome: 0 for outcome in ("created", "duplicate", "withdrawn", "invalid")}
    for result in results:
        counts[result.outcome] += 1
    return {
        "created": counts["created"],
        "duplicates": counts["duplicate"],
        "withdrawn": counts["withdrawn"],
        "invalid": counts["invalid"],
        "results": [_stored_out(result) for result in results],
    }


class SubmissionOut(Schema):
    id: int
    instance_id: str
    form: int
    version: int
    status: str
    status_reason: str
    language: str
    started_at: datetime | None
    ended_at: datetime | None
    received_at: datetime
    collected_by: str | None
    device_id: str
    channel: str
    revision: int
    answers: dict[str, Any]


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None


class SubmissionFilters(Schema):
    version: int | None = None
    since: datetime | None = Field(None, description="Received at or after")
    until: datetime | None = Field(None, description="Received before")
    collected_by: str | None = None
    status: Literal["received", "approved", "flagged", "rejected"] | None = None
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=1000)


def _submission_out(submission: Submission, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": submission.pk,
        "instance_id": submission.instance_id,
        "form": submission.form_id,
        "version": submission.version.number,
        "status": submission.status,
        "status_reason": submission.status_reason,
        "language": submission.language,
        "started_at": submission.started_at,
        "ended_at": submission.ended_at,
        "received_at": submission.received_at,
        "collected_by": submission.collected_by.username if submission.collected_by else None,
        "device_id": submission.device_id,
        "channel": submission.channel,
        "revision": submission.revision,
        "answers": answers,
    }


@router.get("/forms/{form}/submissions", response=SubmissionPage)
def list_submissions(
    request: HttpRequest, form: int, filters: Query[SubmissionFilters]
) -> dict[str, Any]:
    """Raw submissions, newest first, for roles that may read raw data (each read is audited)."""
    page = queries.submission_page(
        _user(request),
        _origin(request),
        form,
        queries.SubmissionQuery(
            version=filters.version,
            since=filters.since,
            until=filters.until,
            collected_by=filters.collected_by,
            status=filters.status,
            cursor=filters.cursor,
            limit=filters.limit,
        ),
    )
    return {
        "items": [_submission_out(s, answers) for s, answers in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/submissions/{submission}", response=SubmissionOut)
def get_submission(request: HttpRequest, submission: int) -> dict[str, Any]:
    found, answers = queries.read_submission(_user(request), _origin(request), submission)
    return _submission_out(found, answers)


class EditIn(Schema):
    answers: dict[str, Any]
    reason: str = Field(..., min_length=1, max_length=2000)


@router.patch("/submissions/{submission}", response=SubmissionOut)
def edit_submission(request: HttpRequest, submission: int, payload: EditIn) -> dict[str, Any]:
    """Correct a submission's answers; the previous answers are kept as a revision."""
    edited = submission_services.edit_submission(
        acting_user=_user(request),
        origin=_origin(request),
        submission_pk=submission,
        answers=payload.answers,
        reason=payload.reason,
    )
    return _submission_out(edited, queries.current_answers(edited))


class ReviewIn(Schema):
    action: Literal["approve", "flag", "reject"]
    reason: str = ""


@router.post("/submissions/{submission}/review", response=SubmissionOut)
def review(request: HttpRequest, submission: int, payload: ReviewIn) -> dict[str, Any]:
    reviewed = submission_services.review_submission(
        acting_user=_user(request),
        origin=_origin(request),
        submission_pk=submission,
        action=payload.action,
        reason=payload.reason,
    )
    return _submission_out(reviewed, queries.current_answers(reviewed))


class RevisionOut(Schema):
    number: int
    made_by: str | None
    made_at: datetime
    replaced_by: str | None
    replaced_at: datetime
    reason: str
    answers: dict[str, Any]


@router.get("/submissions/{submission}/revisions", response=list[RevisionOut])
def list_revisions(request: HttpRequest, submission: int) -> list[dict[str, Any]]:
    revisions: list[SubmissionRevision] = queries.read_revisions(
        _user(request), _origin(request), submission
    )
    return [
        {
            "number": revision.number,
            "made_by": revision.made_by.username if revision.made_by else None,
            "made_at": revision.made_at,
            "replaced_by": revision.replaced_by.username if revision.replaced_by else None,
            "replaced_at": revision.replaced_at,
            "reason": revision.reason,
            "answers": queries.revision_answers(revision),
        }
        for revision in revisions
    ]


# --- consent -------------------------------------------------------------------------


class WithdrawIn(Schema):
    code: str = Field(..., max_length=40)


class WithdrawOut(Schema):
    withdrawn_at: datetime
    submissions_removed: int
    already_withdrawn: bool


@router.post("/consent/withdraw", response=WithdrawOut, auth=None)
def withdraw(request: HttpRequest, payload: WithdrawIn) -> dict[str, Any]:
    """Remove every answer held under a respondent's withdrawal code (no sign-in needed)."""
    result = submission_services.withdraw(origin=_origin(request), code=payload.code)
    return {
        "withdrawn_at": result.tombstone.withdrawn_at,
        "submissions_removed": result.tombstone.submissions_removed,
        "already_withdrawn": result.already,
    }
