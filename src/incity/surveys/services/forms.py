"""Every write to forms: create, edit the draft, import XLSForm, media, consent, publish."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, InvalidInput
from incity.surveys import modules
from incity.surveys.consent import default_sheet
from incity.surveys.definition import FormDefinition, compact, count_questions
from incity.surveys.formcheck import check_definition
from incity.surveys.models import Form, FormMedia, FormStatus, FormVersion
from incity.surveys.queries import get_form
from incity.surveys.xlsform import read_xlsform, required_files

MAX_CONSENT_SHEET_CHARS = 20_000


@dataclass(frozen=True)
class ImportResult:
    form: Form
    version: FormVersion | None
    questions: int
    languages: list[str]
    warnings: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    created: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "form": self.form.pk,
            "form_id": self.form.form_id,
            "status": self.form.status,
            "version": self.version.number if self.version else None,
            "questions": self.questions,
            "languages": self.languages,
            "warnings": self.warnings,
            "missing_files": self.missing_files,
        }


def definition_hash(definition: FormDefinition) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _project_for_editing(user: User | None, project_slug: str) -> Project:
    if user is None:
        project = Project.objects.select_related("organisation").filter(slug=project_slug).first()
        if project is None:
            raise InvalidInput("project", f"No project '{project_slug}'.")
        return project
    return access.get_project(user, project_slug, ProjectAction.EDIT_PROJECT)


def check_definition_or_refuse(definition: FormDefinition) -> None:
    """Refuse a definition with problems, naming the first element and column."""
    problems = check_definition(definition)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InvalidInput(
            "definition",
            f"{first.name}, {first.field}: {first.message}{more}",
            problems=[
                {"name": problem.name, "field": problem.field, "message": problem.message}
                for problem in problems
            ],
        )


def _check_definition_shape(definition: Any) -> FormDefinition:
    if not isinstance(definition, dict):
        raise InvalidInput("definition", "The form definition must be a JSON object.")
    for key in ("form_id", "title", "default_language", "languages", "children", "choices"):
        if key not in definition:
            raise InvalidInput("definition", f"The form definition has no '{key}'.")
    if not isinstance(definition["children"], list) or not isinstance(definition["choices"], dict):
        raise InvalidInput(
            "definition", "'children' must be a list and 'choices' an object of choice lists."
        )
    if not isinstance(definition["languages"], list) or not definition["languages"]:
        raise InvalidInput("definition", "'languages' must list at least one language.")
    return compact(definition)  # type: ignore[arg-type]


def missing_files(form: Form, definition: FormDefinition | None = None) -> list[str]:
    needed = required_files(definition if definition is not None else form.draft)
    present = set(form.media_files.values_list("filename", flat=True))
    return [name for name in needed if name not in present]


def _audit(user: User | None, origin: Origin, action: str, form: Form, **detail: Any) -> None:
    record(
        actor=user,
        origin=origin,
        kind=AuditKind.WRITE,
        action=action,
        project=form.project,
        target=form,
        detail={"form_id": form.form_id, **detail},
    )


@transaction.atomic
def create_form(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    definition: Any,
    consent_required: bool = False,
    consent_sheet: dict[str, str] | None = None,
    is_synthetic: bool = False,
) -> Form:
    project = _project_for_editing(acting_user, project_slug)
    checked = _check_definition_shape(definition)
    check_definition_or_refuse(checked)
    if Form.objects.filter(project=project, form_id=checked["form_id"]).exists():
        raise Conflict(
            f"The project already has a form with form_id '{checked['form_id']}'; "
            "edit that form or choose another form_id.",
            form_id=checked["form_id"],
        )
    sheet = _checked_consent_sheet(consent_sheet or {}, checked)
    form = Form.objects.create(
        project=project,
        form_id=checked["form_id"],
        title=checked["title"],
        draft=checked,
        consent_required=consent_required,
        consent_sheet=sheet,
        created_by=acting_user,
        is_synthetic=is_synthetic or project.is_synthetic,
    )
    _audit(acting_user, origin, "form.create", form, questions=count_questions(checked))
    return form


def create_form_from_modules(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    form_id: str,
    title: str,
    module_slugs: list[str],
    languages: list[str] | None = None,
    consent_required: bool = True,
) -> Form:
    definition = modules.compose_definition(
        form_id=form_id, title=title, module_slugs=module_slugs, languages=languages
    )
    return create_form(
        acting_user=acting_user,
        origin=origin,
        project_slug=project_slug,
        definition=definition,
        consent_required=consent_required,
        consent_sheet=default_sheet(definition["languages"], title),
    )


@transaction.atomic
def update_draft(
    *, acting_user: User | None, origin: Origin, form_pk: int, definition: Any
) -> Form:
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    form = Form.objects.select_for_update().get(pk=form.pk)
    checked = _check_definition_shape(definition)
    check_definition_or_refuse(checked)
    if checked["form_id"] != form.form_id:
        raise InvalidInput(
            "form_id",
            f"The form_id cannot change (it is '{form.form_id}'); devices know the form by it.",
        )
    form.draft = checked
    form.title = checked["title"]
    form.updated_at = timezone.now()
    form.save(update_fields=["draft", "title", "updated_at"])
    _audit(acting_user, origin, "form.edit_draft", form, questions=count_questions(checked))
    return form


def _checked_consent_sheet(sheet: Any, definition: FormDefinition) -> dict[str, str]:
    if not isinstance(sheet, dict):
        raise InvalidInput("consent_sheet", "The information sheet must map languages to text.")
    languages = set(definition["languages"])
    cleaned: dict[str, str] = {}
    for language, text in sheet.items():
        if language not in languages:
            raise InvalidInput(
                "consent_sheet",
                f"The information sheet has a text in '{language}', which is not one of the "
                f"form's languages ({', '.join(definition['languages'])}).",
            )
        if not isinstance(text, str):
            raise InvalidInput(
                "consent_sheet", f"The information sheet in '{language}' must be text."
            )
        if len(text) > MAX_CONSENT_SHEET_CHARS:
            raise InvalidInput(
                "consent_sheet",
                f"The information sheet in '{language}' is longer than "
                f"{MAX_CONSENT_SHEET_CHARS} characters.",
            )
        if text.strip():
            cleaned[language] = text.strip()
    return cleaned


@transaction.atomic
def set_consent(
    *,
    acting_user: User | None,
    origin: Origin,
    form_pk: int,
    required: bool,
    sheet: Any,
) -> Form:
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    cleaned = _checked_consent_sheet(sheet, form.draft)
    form.consent_required = required
    form.consent_sheet = cleaned
    form.updated_at = timezone.now()
    form.save(update_fields=["consent_required", "consent_sheet", "updated_at"])
    _audit(
        acting_user, origin, "form.set_consent", form, required=required, languages=sorted(cleaned)
    )
    return form


def _check_publishable(form: Form) -> None:
    missing = missing_files(form)
    if missing:
        raise Conflict(
            "The form names files that have not been uploaded: " + ", ".join(missing) + ".",
            missing_files=missing,
        )
    if form.consent_required:
        absent = [lang for lang in form.draft["languages"] if lang not in form.consent_sheet]
        if absent:
            raise Conflict(
                "The form asks for consent but its information sheet has no text in: "
                + ", ".join(absent)
                + ".",
                missing_languages=absent,
            )


@transaction.atomic
def publish_form(*, acting_user: User | None, origin: Origin, form_pk: int) -> FormVersion:
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    form = Form.objects.select_for_update().select_related("project").get(pk=form.pk)
    return _publish(form, acting_user, origin)


def _publish(form: Form, acting_user: User | None, origin: Origin) -> FormVersion:
    _check_publishable(form)
    check_definition_or_refuse(form.draft)
    content_hash = definition_hash(form.draft)
    latest = form.latest_version()
    if (
        latest is not None
        and latest.content_hash == content_hash
        and latest.consent_required == form.consent_required
        and latest.consent_sheet == form.consent_sheet
    ):
        raise Conflict(
            f"Nothing has changed since version {latest.number}; edit the form before publishing.",
            version=latest.number,
        )
    version = FormVersion.objects.create(
        form=form,
        number=(latest.number + 1) if latest else 1,
        definition=copy.deepcopy(form.draft),
        content_hash=content_hash,
        question_count=count_questions(form.draft),
        consent_required=form.consent_required,
        consent_sheet=dict(form.consent_sheet),
        published_by=acting_user,
    )
    form.status = FormStatus.OPEN
    form.updated_at = timezone.now()
    form.save(update_fields=["status", "updated_at"])
    _audit(acting_user, origin, "form.publish", form, version=version.number)
    return version


@transaction.atomic
def set_form_status(*, acting_user: User | None, origin: Origin, form_pk: int, status: str) -> Form:
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    if status not in (FormStatus.OPEN, FormStatus.CLOSED):
        raise InvalidInput("status", "A form can be set to 'open' or 'closed'.")
    if status == FormStatus.OPEN and not form.versions.exists():
        raise Conflict("The form has never been published; publish it to open it.")
    if form.status == status:
        raise Conflict(f"The form is already {status}.")
    form.status = status
    form.updated_at = timezone.now()
    form.save(update_fields=["status", "updated_at"])
    _audit(acting_user, origin, f"form.{'reopen' if status == FormStatus.OPEN else 'close'}", form)
    return form


def _check_upload_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise InvalidInput(
            "file",
            f"The {what} is {size / 1024 / 1024:.1f} MB; the limit is {limit // 1024 // 1024} MB.",
            limit_bytes=limit,
        )


@transaction.atomic
def import_xlsform(
    *,
    acting_user: User | None,
    origin: Origin,
    project_slug: str,
    data: bytes,
    filename: str,
) -> ImportResult:
    """Import an XLSForm as a new form, or as the next version of the form with its form_id.

    A form that names media or CSV files not yet uploaded stays a draft and lists them.
    """
    project = _project_for_editing(acting_user, project_slug)
    _check_upload_size(len(data), settings.FORM_UPLOAD_MAX_BYTES, "XLSForm file")
    imported = read_xlsform(data, filename)
    definition = compact(imported.definition)
    form = (
        Form.objects.select_for_update()
        .filter(project=project, form_id=definition["form_id"])
        .first()
    )
    created = form is None
    if form is None:
        form = Form.objects.create(
            project=project,
            form_id=definition["form_id"],
            title=definition["title"],
            draft=definition,
            created_by=acting_user,
            is_synthetic=project.is_synthetic,
        )
    else:
        form.draft = definition
        form.title = definition["title"]
        # Sheets in languages the new version dropped would refuse publication; keep the rest.
        form.consent_sheet = {
            lang: text
            for lang, text in form.consent_sheet.items()
            if lang in definition["languages"]
        }
        form.updated_at = timezone.now()
        form.save(update_fields=["draft", "title", "consent_sheet", "updated_at"])
    _audit(
        acting_user,
        origin,
        "form.import_xlsform",
        form,
        filename=filename[:200],
        created=created,
        questions=count_questions(definition),
    )
    missing = missing_files(form, definition)
    warnings = list(imported.warnings)
    version: FormVersion | None = None
    if not missing:
        latest = form.latest_version()
        if latest is not None and latest.content_hash == definition_hash(definition):
            warnings.append(
                f"The file is the same as version {latest.number}; no new version was made."
            )
            version = latest
        else:
            if form.consent_required and any(
                lang not in form.consent_sheet for lang in definition["languages"]
            ):
                warnings.append(
                    "The form asks for consent but its information sheet lacks some of the "
                    "languages; it stays a draft until the sheet is complete."
                )
            else:
                version = _publish(form, acting_user, origin)
    form.refresh_from_db()
    return ImportResult(
        form=form,
        version=version,
        questions=count_questions(definition),
        languages=list(definition["languages"]),
        warnings=warnings,
        missing_files=missing,
        created=created,
    )


@transaction.atomic
def upload_media(
    *,
    acting_user: User | None,
    origin: Origin,
    form_pk: int,
    filename: str,
    content: bytes,
) -> FormMedia:
    form = get_form(acting_user, form_pk, ProjectAction.EDIT_PROJECT)
    needed = required_files(form.draft)
    if filename not in needed:
        named = ", ".join(needed) if needed else "none"
        raise InvalidInput(
            "file",
            f"The form does not name a file '{filename}'; the files it names are: {named}.",
        )
    _check_upload_size(len(content), settings.FORM_MEDIA_MAX_BYTES, "media file")
    if not content:
        raise InvalidInput("file", f"The file '{filename}' is empty.")
    existing = FormMedia.objects.filter(form=form, filename=filename).first()
    if existing is not None:
        existing.file.delete(save=False)
        existing.delete()
    media = FormMedia(
        form=form,
        filename=filename,
        size=len(content),
        md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        uploaded_by=acting_user,
    )
    media.file.save(filename, ContentFile(content), save=False)
    media.save()
    _audit(
        acting_user,
        origin,
        "form.upload_media",
        form,
        filename=filename,
        size=len(content),
        replaced=existing is not None,
    )
    return media
