"""The preview (the form as a respondent sees it) and the translate page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from incity.accounts.permissions import ProjectAction
from incity.errors import IncityError, InvalidInput, NotFound
from incity.surveys import builder
from incity.surveys.definition import (
    GEO_TYPES,
    MEDIA_ANSWER_TYPES,
    Element,
    FormDefinition,
    element_kind,
    is_right_to_left,
    language_code,
    text_in,
)
from incity.surveys.queries import get_form, get_version
from incity.surveys.services import forms as form_services
from incity.surveys.views.common import origin, page, refuse, signed_in_user
from incity.surveys.views.inputs import AddLanguageForm

# How each answerable type is drawn in the preview.
_WIDGETS: dict[str, str] = {
    "text": "text",
    "barcode": "text",
    "integer": "number",
    "decimal": "number",
    "range": "range",
    "date": "date",
    "time": "time",
    "datetime": "datetime-local",
    "select_one": "radio",
    "select_one_from_file": "radio",
    "select_multiple": "checkbox",
    "select_multiple_from_file": "checkbox",
    "rank": "rank",
    "acknowledge": "acknowledge",
}


@dataclass
class PreviewItem:
    name: str
    type: str
    widget: str
    label: str
    hint: str
    required: bool
    relevant: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[PreviewItem] = field(default_factory=list)


def _widget(element: Element) -> str:
    kind = element["type"]
    if kind in ("group", "repeat", "note"):
        return kind
    if kind in GEO_TYPES:
        return "map"
    if kind in MEDIA_ANSWER_TYPES:
        return "file"
    return _WIDGETS.get(kind, "text")


def preview_items(
    elements: list[Element], definition: FormDefinition, language: str
) -> list[PreviewItem]:
    default = definition["default_language"]
    items = []
    for element in elements:
        if element_kind(element["type"]) in ("computed", "metadata"):
            continue  # respondents never see them
        choices = [
            (choice["name"], text_in(choice.get("label"), language, default) or choice["name"])
            for choice in definition["choices"].get(element.get("list_name", ""), [])
        ]
        items.append(
            PreviewItem(
                name=element["name"],
                type=element["type"],
                widget=_widget(element),
                label=text_in(element.get("label"), language, default),
                hint=text_in(element.get("hint"), language, default),
                required=bool(element.get("required")),
                relevant=element.get("relevant", ""),
                choices=choices,
                children=preview_items(element.get("children", []), definition, language),
            )
        )
    return items


@require_safe
@page
def preview(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.VIEW_PROJECT)
    raw_version = request.GET.get("version", "")
    if raw_version and not raw_version.isdigit():
        raise NotFound(_("The form has no version '%(version)s'.") % {"version": raw_version})
    version = get_version(found, int(raw_version)) if raw_version else None
    definition: FormDefinition = version.definition if version else found.draft
    consent_required = version.consent_required if version else found.consent_required
    sheets: dict[str, str] = version.consent_sheet if version else found.consent_sheet
    language = request.GET.get("lang", "")
    if language not in definition["languages"]:
        language = definition["default_language"]
    context = {
        "form": found,
        "project": found.project,
        "definition": definition,
        "version": version,
        "versions": list(found.versions.order_by("-number").values_list("number", flat=True)),
        "language": language,
        "code": language_code(language),
        "rtl": is_right_to_left(language),
        "title": definition["title"],
        "items": preview_items(definition["children"], definition, language),
        "consent_required": consent_required,
        "sheet": sheets.get(language, ""),
    }
    return render(request, "surveys/preview.html", context)


# What a translator is told each text is.
FIELD_NAMES: dict[str, Promise] = {
    "label": gettext_lazy("label"),
    "hint": gettext_lazy("hint"),
    "required_message": gettext_lazy("message when unanswered"),
    "constraint_message": gettext_lazy("message when not accepted"),
}


@dataclass(frozen=True)
class TextRow:
    id: str
    text: builder.TranslatableText
    value: str

    @property
    def field(self) -> str:
        return str(FIELD_NAMES.get(self.text.field, self.text.field))


def _translate_page(
    request: HttpRequest,
    form_pk: int,
    language: str,
    *,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form_pk, ProjectAction.EDIT_PROJECT)
    definition: FormDefinition = found.draft
    targets = [key for key in definition["languages"] if key != definition["default_language"]]
    if language not in targets:
        language = targets[0] if targets else ""
    rows = builder.translatable_texts(definition, language) if language else []
    default = definition["default_language"]
    context = {
        "form": found,
        "project": found.project,
        "definition": definition,
        "language": language,
        "targets": targets,
        "default": default,
        "source_code": language_code(default),
        "source_rtl": is_right_to_left(default),
        "code": language_code(language),
        "rtl": is_right_to_left(language),
        "rows": [
            TextRow(id=f"text-{index}", text=row, value=(entered or {}).get(row.key, row.text))
            for index, row in enumerate(rows, start=1)
        ],
        "missing": sum(1 for row in rows if row.source and not row.text),
        "language_form": AddLanguageForm(),
        "next": request.get_full_path(),
    }
    return render(request, "surveys/translate.html", context, status=status)


@require_http_methods(["GET", "POST"])
@page
def translate(request: HttpRequest, form: int) -> HttpResponse:
    if request.method != "POST":
        return _translate_page(request, form, request.GET.get("lang", ""))
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.EDIT_PROJECT)
    definition: FormDefinition = found.draft
    language = request.POST.get("lang", "")
    texts: dict[str, str] = {}
    try:
        keys = {row.key for row in builder.translatable_texts(definition, language)}
        texts = {key: request.POST[key] for key in keys if key in request.POST}
        edited = builder.set_translation(definition, language, texts)
        form_services.update_draft(
            acting_user=user, origin=origin(request), form_pk=found.pk, definition=edited
        )
    except InvalidInput as error:
        refuse(request, error)
        return _translate_page(request, form, language, entered=texts, status=422)
    except IncityError as error:
        refuse(request, error)
        return _translate_page(request, form, language, entered=texts, status=error.status)
    messages.success(request, _("The %(language)s texts are saved.") % {"language": language})
    url = reverse("surveys:translate", args=[found.pk])
    return redirect(f"{url}?{urlencode({'lang': language})}")
