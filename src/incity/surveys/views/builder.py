"""The form page and builder: the draft as a tree, editing, languages, consent, media, publishing.

Reads need view_project; every POST needs edit_project (checked before anything else,
so a refused role gets 403 whatever it sent). Draft edits are pure functions in
`incity.surveys.builder`, saved with `services.forms.update_draft`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from incity.accounts.models import User
from incity.accounts.permissions import ProjectAction
from incity.errors import IncityError, InvalidInput, NotFound
from incity.surveys import builder, modules
from incity.surveys.definition import (
    STRUCTURE_TYPES,
    Element,
    FormDefinition,
    count_questions,
    is_right_to_left,
    language_code,
    text_in,
    walk,
)
from incity.surveys.models import Form, FormStatus
from incity.surveys.queries import get_form, get_version
from incity.surveys.services import forms as form_services
from incity.surveys.views.common import (
    form_page_url,
    may,
    origin,
    page,
    refuse,
    safe_next,
    signed_in_user,
)
from incity.surveys.views.forms import module_choices
from incity.surveys.views.inputs import AddLanguageForm, MediaForm, QuestionForm
from incity.surveys.xlsform import write_xlsform

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class TreeItem:
    name: str
    type: str
    label: str
    domains: list[str]
    module: str
    required: bool
    relevant: str
    list_name: str
    is_structure: bool
    is_first: bool
    is_last: bool
    children: list[TreeItem] = field(default_factory=list)


@dataclass(frozen=True)
class LanguageRow:
    index: int
    key: str
    code: str
    is_default: bool
    is_rtl: bool
    sheet: str


def tree(elements: list[Element], language: str) -> list[TreeItem]:
    items = []
    for position, element in enumerate(elements):
        tags = element.get("tags", {})
        items.append(
            TreeItem(
                name=element["name"],
                type=element["type"],
                label=text_in(element.get("label"), language),
                domains=list(tags.get("domains", [])),
                module=tags.get("module", ""),
                required=bool(element.get("required")),
                relevant=element.get("relevant", ""),
                list_name=element.get("list_name", ""),
                is_structure=element["type"] in STRUCTURE_TYPES,
                is_first=position == 0,
                is_last=position == len(elements) - 1,
                children=tree(element.get("children", []), language),
            )
        )
    return items


def _modules_in(definition: FormDefinition) -> set[str]:
    return {
        element.get("tags", {}).get("module", "")
        for element, _ in walk(definition["children"])
        if element["type"] in STRUCTURE_TYPES
    }


def _form_context(user: User, form: Form) -> dict[str, Any]:
    definition: FormDefinition = form.draft
    latest = form.latest_version()
    present = _modules_in(definition)
    return {
        "form": form,
        "project": form.project,
        "definition": definition,
        "may_edit": may(user, ProjectAction.EDIT_PROJECT, form),
        "may_read_raw": may(user, ProjectAction.VIEW_RAW_DATA, form),
        "may_export": may(user, ProjectAction.EXPORT_RAW_DATA, form),
        "may_collect": may(user, ProjectAction.COLLECT, form),
        "tree": tree(definition["children"], definition["default_language"]),
        "questions": count_questions(definition),
        "form_languages": [
            LanguageRow(
                index=index,
                key=key,
                code=language_code(key),
                is_default=key == definition["default_language"],
                is_rtl=is_right_to_left(key),
                sheet=form.consent_sheet.get(key, ""),
            )
            for index, key in enumerate(definition["languages"])
        ],
        "versions": list(form.versions.select_related("published_by").order_by("-number")),
        "latest": latest,
        "unpublished_changes": latest is None
        or latest.content_hash != form_services.definition_hash(definition)
        or latest.consent_required != form.consent_required
        or latest.consent_sheet != form.consent_sheet,
        "missing_files": form_services.missing_files(form),
        "media_files": list(form.media_files.all()),
        "addable_modules": [m for m in module_choices() if m.slug not in present],
        "language_form": AddLanguageForm(),
        "media_form": MediaForm(),
        "is_open": form.status == FormStatus.OPEN,
        "is_closed": form.status == FormStatus.CLOSED,
    }


@require_safe
@page
def form_page(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.VIEW_PROJECT)
    return render(request, "surveys/form.html", _form_context(user, found))


def _editable(request: HttpRequest, form: int) -> tuple[User, Form]:
    user = signed_in_user(request)
    return user, get_form(user, form, ProjectAction.EDIT_PROJECT)


def _save(request: HttpRequest, user: User, form: Form, definition: FormDefinition) -> bool:
    try:
        form_services.update_draft(
            acting_user=user, origin=origin(request), form_pk=form.pk, definition=definition
        )
    except IncityError as error:
        refuse(request, error)
        return False
    return True


# --- questions ------------------------------------------------------------------------


def _question_page(
    request: HttpRequest,
    form: Form,
    question_form: QuestionForm,
    *,
    element: Element | None = None,
    parent: str = "",
    status: int = 200,
) -> HttpResponse:
    definition: FormDefinition = form.draft
    context = {
        "form": form,
        "project": form.project,
        "question_form": question_form,
        "element": element,
        "parent": parent,
        "choice_lists": [
            (
                name,
                ", ".join(
                    text_in(c.get("label"), definition["default_language"]) or c["name"]
                    for c in choices
                ),
            )
            for name, choices in definition["choices"].items()
        ],
        "groups": [
            element["name"]
            for element, _ in walk(definition["children"])
            if element["type"] in STRUCTURE_TYPES
        ],
    }
    return render(request, "surveys/question.html", context, status=status)


def _apply_question(
    request: HttpRequest,
    user: User,
    form: Form,
    question_form: QuestionForm,
    change: Any,
) -> FormDefinition | None:
    """The edited definition, or None with the refusal added to the question form."""
    if not question_form.is_valid():
        return None
    try:
        definition: FormDefinition = change(question_form.spec())
        form_services.update_draft(
            acting_user=user, origin=origin(request), form_pk=form.pk, definition=definition
        )
    except InvalidInput as error:
        field_name = _form_field(error.field, question_form)
        question_form.add_error(field_name, error.message)
        return None
    except IncityError as error:
        question_form.add_error(None, error.message)
        return None
    return definition


def _form_field(service_field: str, question_form: QuestionForm) -> str | None:
    if service_field in question_form.fields:
        return service_field
    if service_field in ("label", "hint", "constraint_message"):
        return f"{service_field}_0"
    return None


@require_http_methods(["GET", "POST"])
@page
def question_new(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    definition: FormDefinition = found.draft
    parent = (request.POST if request.method == "POST" else request.GET).get("parent", "")
    if request.method != "POST":
        return _question_page(
            request,
            found,
            QuestionForm(definition=definition, initial={"type": "text"}),
            parent=parent,
        )
    question_form = QuestionForm(request.POST, definition=definition)
    saved = _apply_question(
        request,
        user,
        found,
        question_form,
        lambda spec: builder.add_question(definition, spec, parent=parent),
    )
    if saved is None:
        return _question_page(request, found, question_form, parent=parent, status=422)
    name = question_form.cleaned_data["name"].strip()
    messages.success(request, _("%(name)s is added.") % {"name": name})
    return redirect(form_page_url(found, f"el-{name}"))


@require_http_methods(["GET", "POST"])
@page
def element_edit(request: HttpRequest, form: int, name: str) -> HttpResponse:
    user, found = _editable(request, form)
    definition: FormDefinition = found.draft
    try:
        element = builder.element_named(definition, name)
    except InvalidInput as error:
        refuse(request, error)
        return redirect(form_page_url(found))
    if request.method != "POST":
        question_form = QuestionForm(definition=definition, element=element)
        return _question_page(request, found, question_form, element=element)
    question_form = QuestionForm(request.POST, definition=definition, element=element)
    saved = _apply_question(
        request,
        user,
        found,
        question_form,
        lambda spec: builder.update_question(definition, name, spec),
    )
    if saved is None:
        return _question_page(request, found, question_form, element=element, status=422)
    new_name = question_form.cleaned_data["name"].strip()
    messages.success(request, _("%(name)s is saved.") % {"name": new_name})
    return redirect(form_page_url(found, f"el-{new_name}"))


@require_POST
@page
def element_move(request: HttpRequest, form: int, name: str) -> HttpResponse:
    user, found = _editable(request, form)
    direction = request.POST.get("direction", "")
    try:
        definition = builder.move_element(found.draft, name, direction)  # type: ignore[arg-type]
    except InvalidInput as error:
        refuse(request, error)
    else:
        if _save(request, user, found, definition):
            message = _("%(name)s moved up.") if direction == "up" else _("%(name)s moved down.")
            messages.success(request, message % {"name": name})
    return redirect(form_page_url(found, f"el-{name}"))


@require_POST
@page
def element_remove(request: HttpRequest, form: int, name: str) -> HttpResponse:
    user, found = _editable(request, form)
    try:
        definition = builder.remove_element(found.draft, name)
    except InvalidInput as error:
        refuse(request, error)
        return redirect(form_page_url(found, f"el-{name}"))
    if _save(request, user, found, definition):
        messages.success(request, _("%(name)s is removed.") % {"name": name})
    return redirect(form_page_url(found, "tree-heading"))


def _module_languages(slug: str, definition: FormDefinition) -> list[str] | None:
    """The form's languages the module is written in; others are translated on the form."""
    info = next((m for m in modules.list_modules() if m.slug == slug), None)
    if info is None:
        return None  # compose_definition names the modules there are
    shared = [key for key in definition["languages"] if key in info.languages]
    if not shared:
        raise InvalidInput(
            "module",
            _("The module is written in %(languages)s, none of which the form has.")
            % {"languages": ", ".join(info.languages)},
        )
    return shared


@require_POST
@page
def module_add(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    slug = request.POST.get("module", "")
    definition: FormDefinition = found.draft
    try:
        module = modules.compose_definition(
            form_id=found.form_id,
            title=found.title,
            module_slugs=[slug],
            languages=_module_languages(slug, definition),
        )
        edited = builder.add_module_group(definition, module)
    except IncityError as error:
        refuse(request, error)
        return redirect(form_page_url(found, "modules-heading"))
    if _save(request, user, found, edited):
        messages.success(request, _("The module %(module)s is added.") % {"module": slug})
    return redirect(form_page_url(found, "tree-heading"))


# --- languages, consent, media, publishing ---------------------------------------------


@require_POST
@page
def language_change(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    definition: FormDefinition = found.draft
    action = request.POST.get("action", "add")
    fallback = form_page_url(found, "languages-heading")
    try:
        if action == "remove":
            key = request.POST.get("language", "")
            edited = builder.remove_language(definition, key)
        else:
            language_form = AddLanguageForm(request.POST)
            language_form.is_valid()
            common = language_form.cleaned_data.get("common", "")
            typed = language_form.cleaned_data.get("key", "")
            if not common and not typed:
                raise InvalidInput("language", _("Choose a language or type its name and code."))
            key = builder.language_key(common) if common else builder.check_language_key(typed)
            edited = builder.add_language(definition, key)
    except InvalidInput as error:
        refuse(request, error)
        return safe_next(request, fallback)
    if not _save(request, user, found, edited):
        return safe_next(request, fallback)
    if action == "remove":
        messages.success(request, _("%(language)s is removed from the form.") % {"language": key})
        return redirect(fallback)
    messages.success(
        request,
        _("%(language)s is added. Write its texts here.") % {"language": key},
    )
    return redirect(f"{reverse('surveys:translate', args=[found.pk])}?{urlencode({'lang': key})}")


@require_POST
@page
def consent_set(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    definition: FormDefinition = found.draft
    sheet = {
        language: request.POST.get(f"sheet_{index}", "")
        for index, language in enumerate(definition["languages"])
    }
    try:
        form_services.set_consent(
            acting_user=user,
            origin=origin(request),
            form_pk=found.pk,
            required=request.POST.get("required") == "on",
            sheet=sheet,
        )
    except IncityError as error:
        refuse(request, error)
    else:
        messages.success(request, _("The consent settings are saved."))
    return redirect(form_page_url(found, "consent-heading"))


@require_POST
@page
def publish(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    try:
        version = form_services.publish_form(
            acting_user=user, origin=origin(request), form_pk=found.pk
        )
    except IncityError as error:
        refuse(request, error)
    else:
        messages.success(
            request,
            _("Version %(number)s is published; phones get it at their next update.")
            % {"number": version.number},
        )
    return redirect(form_page_url(found, "versions-heading"))


@require_POST
@page
def status_set(request: HttpRequest, form: int) -> HttpResponse:
    user, found = _editable(request, form)
    status = request.POST.get("status", "")
    try:
        form_services.set_form_status(
            acting_user=user, origin=origin(request), form_pk=found.pk, status=status
        )
    except IncityError as error:
        refuse(request, error)
    else:
        if status == FormStatus.CLOSED:
            messages.success(request, _("The form is closed; it takes no more answers."))
        else:
            messages.success(request, _("The form is open for answers again."))
    return redirect(form_page_url(found))


@require_safe
@page
def xlsform_download(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.VIEW_PROJECT)
    raw = request.GET.get("version", "")
    if raw and not raw.isdigit():
        raise NotFound(_("The form has no version '%(version)s'.") % {"version": raw})
    number = int(raw) if raw else None
    definition = found.draft if number is None else get_version(found, number).definition
    response = HttpResponse(write_xlsform(definition), content_type=XLSX)
    suffix = f"-v{number}" if number is not None else "-draft"
    response["Content-Disposition"] = f'attachment; filename="{found.form_id}{suffix}.xlsx"'
    return response
