"""API for the module library, forms, XLSForm import and export, media and sensitive questions.

Submissions have their own router: submissions_api.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from incity.accounts import access
from incity.accounts.permissions import ProjectAction
from incity.api_context import api_origin, signed_in_user
from incity.errors import InvalidInput
from incity.surveys import modules, queries
from incity.surveys.models import Form, FormVersion
from incity.surveys.services import forms as form_services
from incity.surveys.services import sensitivity as sensitivity_services
from incity.surveys.xlsform import write_xlsform

router = Router(tags=["surveys"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    project = access.get_project(signed_in_user(request), slug, ProjectAction.VIEW_PROJECT)
    return [_form_out(form) for form in project.forms.select_related("project")]


@router.post("/projects/{slug}/forms", response={201: FormOut})
def create_form(request: HttpRequest, slug: str, payload: FormIn) -> Status:
    user, origin = signed_in_user(request), api_origin(request)
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
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        project_slug=slug,
        data=file.read(),
        filename=file.name or "form.xlsx",
    )
    return Status(201 if result.created else 200, result.as_json())


@router.get("/forms/{form}", response=FormOut)
def get_form(request: HttpRequest, form: int) -> dict[str, Any]:
    return _form_out(queries.get_form(signed_in_user(request), form, ProjectAction.VIEW_PROJECT))


@router.get("/forms/{form}/draft")
def get_draft(request: HttpRequest, form: int) -> dict[str, Any]:
    return queries.get_form(signed_in_user(request), form, ProjectAction.VIEW_PROJECT).draft


class DraftIn(Schema):
    definition: dict[str, Any]


@router.put("/forms/{form}/draft", response=FormOut)
def put_draft(request: HttpRequest, form: int, payload: DraftIn) -> dict[str, Any]:
    updated = form_services.update_draft(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
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
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        form_pk=form,
        required=payload.required,
        sheet=payload.sheet,
    )
    return _form_out(updated)


@router.post("/forms/{form}/publish", response={201: VersionOut})
def publish(request: HttpRequest, form: int) -> Status:
    version = form_services.publish_form(
        acting_user=signed_in_user(request), origin=api_origin(request), form_pk=form
    )
    return Status(201, _version_out(version))


class FormStatusIn(Schema):
    status: Literal["open", "closed"]


@router.post("/forms/{form}/status", response=FormOut)
def set_status(request: HttpRequest, form: int, payload: FormStatusIn) -> dict[str, Any]:
    updated = form_services.set_form_status(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        form_pk=form,
        status=payload.status,
    )
    return _form_out(updated)


@router.get("/forms/{form}/versions", response=list[VersionOut])
def list_versions(request: HttpRequest, form: int) -> list[dict[str, Any]]:
    found = queries.get_form(signed_in_user(request), form, ProjectAction.VIEW_PROJECT)
    return [_version_out(v) for v in found.versions.select_related("published_by")]


@router.get("/forms/{form}/versions/{number}")
def get_version(request: HttpRequest, form: int, number: int) -> dict[str, Any]:
    found = queries.get_form(signed_in_user(request), form, ProjectAction.VIEW_PROJECT)
    version = queries.get_version(found, number)
    return {**_version_out(version), "definition": version.definition}


@router.get("/forms/{form}/xlsform")
def download_xlsform(request: HttpRequest, form: int, version: int | None = None) -> HttpResponse:
    """The form as an XLSForm (.xlsx): the draft, or a published version with ?version=N."""
    found = queries.get_form(signed_in_user(request), form, ProjectAction.VIEW_PROJECT)
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
        acting_user=signed_in_user(request),
        origin=api_origin(request),
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
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    row = sensitivity_services.set_sensitive_questions(
        acting_user=user, origin=api_origin(request), project=project, names=payload.questions
    )
    return {"questions": row.sensitive_questions}
