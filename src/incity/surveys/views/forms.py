"""A project's forms: the list, a new form from modules, XLSForm import and media uploads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incity.accounts import access
from incity.accounts.models import Project
from incity.accounts.permissions import ProjectAction
from incity.errors import IncityError, InvalidInput
from incity.surveys import builder, modules
from incity.surveys.definition import FormDefinition, count_questions, language_code
from incity.surveys.models import Form
from incity.surveys.queries import get_form
from incity.surveys.services import forms as form_services
from incity.surveys.services.forms import ImportResult
from incity.surveys.views.common import form_page_url, origin, page, refuse, signed_in_user
from incity.surveys.views.inputs import ImportForm, MediaForm, NewFormForm, split_keys
from incity.surveys.xlsform import required_files


@dataclass(frozen=True)
class FormRow:
    form: Form
    latest_version: int | None
    questions: int
    languages: list[str]
    missing_files: list[str]


@dataclass(frozen=True)
class ModuleChoice:
    slug: str
    title: str
    description: str
    question_count: int
    domains: list[str]


def in_interface_language(texts: dict[str, str]) -> str:
    """A text of the module library in the interface language, else English, else any."""
    wanted = (get_language() or "en").split("-")[0]
    for wanted_code in (wanted, "en"):
        for key, text in texts.items():
            if language_code(key) == wanted_code and text:
                return text
    return next((text for text in texts.values() if text), "")


def module_choices() -> list[ModuleChoice]:
    return [
        ModuleChoice(
            slug=info.slug,
            title=in_interface_language(info.title),
            description=in_interface_language(info.description),
            question_count=info.question_count,
            domains=list(info.domains),
        )
        for info in modules.list_modules()
    ]


def _rows(project: Project) -> list[FormRow]:
    forms = (
        project.forms.annotate(latest=Max("versions__number"))
        .prefetch_related("media_files")
        .order_by("title")
    )
    rows = []
    for form in forms:
        definition: FormDefinition = form.draft
        present = {media.filename for media in form.media_files.all()}
        rows.append(
            FormRow(
                form=form,
                latest_version=form.latest,
                questions=count_questions(definition),
                languages=list(definition["languages"]),
                missing_files=[name for name in required_files(definition) if name not in present],
            )
        )
    return rows


@require_safe
@page
def form_list(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.VIEW_PROJECT)
    context = {
        "project": project,
        "rows": _rows(project),
        "may_edit": access.can_project(user, ProjectAction.EDIT_PROJECT, project),
    }
    return render(request, "surveys/form_list.html", context)


def _new_form_page(
    request: HttpRequest,
    project: Project,
    form: NewFormForm,
    choices: list[ModuleChoice],
    status: int = 200,
) -> HttpResponse:
    context = {"project": project, "form": form, "modules": choices}
    return render(request, "surveys/form_new.html", context, status=status)


@transaction.atomic
def _create_from_modules(request: HttpRequest, project: Project, data: dict[str, Any]) -> Form:
    """Compose the form in the module languages, then add the others (to be translated here)."""
    extra = [builder.check_language_key(key) for key in split_keys(data["more_languages"])]
    chosen = list(data["languages"])
    if not chosen:
        raise InvalidInput(
            "languages",
            _(
                "Choose at least one of English, Deutsch and Svenska: the modules are written "
                "in them. Add other languages beside them and translate the texts afterwards."
            ),
        )
    form = form_services.create_form_from_modules(
        acting_user=signed_in_user(request),
        origin=origin(request),
        project_slug=project.slug,
        form_id=data["form_id"].strip(),
        title=data["title"].strip(),
        module_slugs=list(data["modules"]),
        languages=chosen,
        consent_required=bool(data["consent_required"]),
    )
    added = [key for key in extra if key not in chosen]
    if not added:
        return form
    definition = builder.set_languages(form.draft, [*form.draft["languages"], *added])
    return form_services.update_draft(
        acting_user=signed_in_user(request),
        origin=origin(request),
        form_pk=form.pk,
        definition=definition,
    )


@require_http_methods(["GET", "POST"])
@page
def form_new(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    choices = module_choices()
    pairs = [(choice.slug, choice.title) for choice in choices]
    if request.method != "POST":
        return _new_form_page(request, project, NewFormForm(module_choices=pairs), choices)
    form = NewFormForm(request.POST, module_choices=pairs)
    if not form.is_valid():
        return _new_form_page(request, project, form, choices, status=422)
    data = form.cleaned_data
    try:
        created = _create_from_modules(request, project, data)
    except InvalidInput as error:
        field = {"module_slugs": "modules", "language": "more_languages"}.get(
            error.field, error.field
        )
        form.add_error(field if field in form.fields else None, error.message)
        return _new_form_page(request, project, form, choices, status=422)
    except IncityError as error:
        form.add_error(None, error.message)
        return _new_form_page(request, project, form, choices, status=error.status)
    messages.success(
        request,
        _("The form %(title)s is ready as a draft. Check it, then publish it.")
        % {"title": created.title},
    )
    return redirect("surveys:form", form=created.pk)


def _import_page(
    request: HttpRequest,
    project: Project,
    form: ImportForm,
    *,
    result: ImportResult | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "project": project,
        "form": form,
        "result": result,
        "error": error,
        "limit_mb": settings.FORM_UPLOAD_MAX_BYTES // 1024 // 1024,
    }
    return render(request, "surveys/form_import.html", context, status=status)


@require_http_methods(["GET", "POST"])
@page
def form_import(request: HttpRequest, slug: str) -> HttpResponse:
    user = signed_in_user(request)
    project = access.get_project(user, slug, ProjectAction.EDIT_PROJECT)
    if request.method != "POST":
        return _import_page(request, project, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, project, form, status=422)
    upload = form.cleaned_data["file"]
    limit = settings.FORM_UPLOAD_MAX_BYTES
    if (upload.size or 0) > limit:
        message = _("The file is larger than the %(limit)s MB limit for XLSForms.") % {
            "limit": limit // 1024 // 1024
        }
        return _import_page(request, project, ImportForm(), error=message, status=422)
    try:
        result = form_services.import_xlsform(
            acting_user=user,
            origin=origin(request),
            project_slug=project.slug,
            data=upload.read(),
            filename=upload.name or "form.xlsx",
        )
    except IncityError as error:
        # The same sentence the command line prints (sheet, row and column when known).
        return _import_page(
            request, project, ImportForm(), error=error.message, status=error.status
        )
    return _import_page(request, project, ImportForm(), result=result)


@require_POST
@page
def media_upload(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.EDIT_PROJECT)
    upload_form = MediaForm(request.POST, request.FILES)
    if not upload_form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect(form_page_url(found, "media-heading"))
    upload = upload_form.cleaned_data["file"]
    filename = upload_form.cleaned_data["filename"] or upload.name or ""
    limit = settings.FORM_MEDIA_MAX_BYTES
    if (upload.size or 0) > limit:
        messages.error(
            request,
            _("The file is larger than the %(limit)s MB limit for media files.")
            % {"limit": limit // 1024 // 1024},
        )
        return redirect(form_page_url(found, "media-heading"))
    try:
        form_services.upload_media(
            acting_user=user,
            origin=origin(request),
            form_pk=found.pk,
            filename=filename,
            content=upload.read(),
        )
    except IncityError as error:
        refuse(request, error)
    else:
        messages.success(request, _("%(name)s is uploaded.") % {"name": filename})
    return redirect(form_page_url(found, "media-heading"))
