"""Django forms of the survey pages: they check what people type before a service sees it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incity.surveys.builder import COMMON_LANGUAGES, QuestionSpec
from incity.surveys.definition import (
    BUILDER_TYPES,
    STRUCTURE_TYPES,
    Element,
    FormDefinition,
    is_right_to_left,
    language_code,
)
from incity.surveys.models import SubmissionStatus

# The languages a new form may start in (the module library's languages), first = default.
STARTING_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("English (en)", "English (en)"),
    ("Deutsch (de)", "Deutsch (de)"),
    ("Svenska (sv)", "Svenska (sv)"),
)


class DateInput(forms.DateInput):
    input_type = "date"


def split_keys(text: str) -> list[str]:
    """Language keys typed in one field, separated by commas or new lines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _language_attrs(language: str) -> dict[str, str]:
    """lang and dir for an input holding text in a form language."""
    attrs = {"dir": "rtl" if is_right_to_left(language) else "ltr"}
    code = language_code(language)
    if code:
        attrs["lang"] = code
    return attrs


class NewFormForm(forms.Form):
    """A new form composed from modules of the library."""

    modules = forms.MultipleChoiceField(
        label=_("Modules"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one module.")},
    )
    form_id = forms.CharField(
        label=_("Form id"),
        max_length=100,
        help_text=_(
            "Letters, digits and _ without spaces, for example dips_2026. Phones know the form by it; "
            "it cannot change later."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=255)
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        required=False,
        choices=STARTING_LANGUAGES,
        initial=[key for key, _label in STARTING_LANGUAGES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The languages the modules are written in. English is the default language when "
            "chosen; otherwise the first one."
        ),
    )
    more_languages = forms.CharField(
        label=_("More languages"),
        required=False,
        max_length=500,
        help_text=_(
            "Name and code in brackets, separated by commas, for example: العربية (ar), "
            "Soomaali (so). Their texts are written on the translate page."
        ),
    )
    consent_required = forms.BooleanField(
        label=_("Ask for consent before the first question"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, module_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["modules"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = module_choices


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("XLSForm file"),
        help_text=_("An .xlsx, .xls, .csv or .md XLSForm."),
        error_messages={
            "required": _("Choose the XLSForm file to import."),
            "empty": _("The file is empty."),
        },
    )


class MediaForm(forms.Form):
    file = forms.FileField(label=_("File"))
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)


class QuestionForm(forms.Form):
    """A custom question, or an existing element being edited; texts per form language."""

    type = forms.ChoiceField(label=_("Type"), choices=[(kind, kind) for kind in BUILDER_TYPES])
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Letters, digits and _ without spaces; unique in the form."),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    relevant = forms.CharField(
        label=_("Show only when (relevant)"),
        required=False,
        max_length=2000,
        help_text=_("For example ${age} >= 16. Leave empty to always show."),
    )
    constraint = forms.CharField(
        label=_("Accept only when (constraint)"),
        required=False,
        max_length=2000,
        help_text=_("For example . >= 0 and . <= 120 (the dot is the answer)."),
    )
    default = forms.CharField(label=_("Default answer"), required=False, max_length=2000)
    list_name = forms.ChoiceField(label=_("Choice list"), required=False)
    new_choices = forms.CharField(
        label=_("Choices"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line as name | label, for example: yes | Yes. With a list chosen above, "
            "these replace its choices; otherwise they make a new list."
        ),
    )
    new_list_name = forms.CharField(
        label=_("Name of the new list"),
        required=False,
        max_length=100,
        help_text=_("Leave empty to name the list after the question."),
    )
    choice_filter = forms.CharField(
        label=_("Choice filter"),
        required=False,
        max_length=2000,
        help_text=_("Select questions only, for example county = ${county}."),
    )
    calculation = forms.CharField(
        label=_("Calculation"),
        required=False,
        max_length=2000,
        help_text=_("Calculate questions only, for example ${rent} * 12."),
    )
    repeat_count = forms.CharField(
        label=_("Number of repeats"),
        required=False,
        max_length=2000,
        help_text=_("Repeats only; leave empty to let the person add as many as needed."),
    )
    domains = forms.CharField(
        label=_("Framework domains"),
        required=False,
        max_length=1000,
        help_text=_("Domain ids separated by commas, for example ioi-2019:housing."),
    )

    def __init__(
        self,
        *args: Any,
        definition: FormDefinition,
        element: Element | None = None,
        **kwargs: Any,
    ) -> None:
        if element is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(element, definition)
        super().__init__(*args, **kwargs)
        self.languages = list(definition["languages"])
        kinds = list(BUILDER_TYPES)
        if element is not None:
            if element["type"] not in kinds:
                kinds.append(element["type"])
            if element["type"] in STRUCTURE_TYPES:
                kinds = [kind for kind in kinds if kind in STRUCTURE_TYPES]
            else:
                kinds = [kind for kind in kinds if kind not in STRUCTURE_TYPES]
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [(kind, kind) for kind in kinds]
        type_field.widget.attrs["data-question-type"] = ""
        list_field = self.fields["list_name"]
        assert isinstance(list_field, forms.ChoiceField)
        list_field.choices = [("", _("— a new list, written below —"))] + [
            (name, name) for name in definition["choices"]
        ]
        for index, language in enumerate(self.languages):
            attrs = _language_attrs(language)
            self.fields[f"label_{index}"] = forms.CharField(
                label=_("Label in %(language)s") % {"language": language},
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 2, **attrs}),
            )
            self.fields[f"hint_{index}"] = forms.CharField(
                label=_("Hint in %(language)s") % {"language": language},
                required=False,
                max_length=5000,
                widget=forms.TextInput(attrs=attrs),
            )
            self.fields[f"constraint_message_{index}"] = forms.CharField(
                label=_("Message when not accepted, in %(language)s") % {"language": language},
                required=False,
                max_length=5000,
                widget=forms.TextInput(attrs=attrs),
            )

    @staticmethod
    def initial_from(element: Element, definition: FormDefinition) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "type": element["type"],
            "name": element["name"],
            "required": bool(element.get("required")),
            "list_name": element.get("list_name", ""),
            "domains": ", ".join(element.get("tags", {}).get("domains", [])),
        }
        columns: dict[str, Any] = dict(element)
        for column in (
            "relevant",
            "constraint",
            "default",
            "choice_filter",
            "calculation",
            "repeat_count",
        ):
            initial[column] = columns.get(column, "")
        for index, language in enumerate(definition["languages"]):
            for column in ("label", "hint", "constraint_message"):
                texts = columns.get(column) or {}
                initial[f"{column}_{index}"] = texts.get(language, "")
        return initial

    def bound_language_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Per language: its label, hint and constraint message fields, for one fieldset each."""
        return [
            (
                language,
                [self[f"{column}_{index}"] for column in ("label", "hint", "constraint_message")],
            )
            for index, language in enumerate(self.languages)
        ]

    def spec(self) -> QuestionSpec:
        data = self.cleaned_data

        def texts(column: str) -> dict[str, str]:
            return {
                language: data[f"{column}_{index}"]
                for index, language in enumerate(self.languages)
                if data.get(f"{column}_{index}")
            }

        return QuestionSpec(
            type=data["type"],
            name=data["name"].strip(),
            label=texts("label"),
            hint=texts("hint"),
            required=bool(data.get("required")),
            relevant=data.get("relevant", ""),
            constraint=data.get("constraint", ""),
            constraint_message=texts("constraint_message"),
            default=data.get("default", ""),
            calculation=data.get("calculation", ""),
            choice_filter=data.get("choice_filter", ""),
            repeat_count=data.get("repeat_count", ""),
            list_name=data.get("list_name", ""),
            new_choices=data.get("new_choices", ""),
            new_list_name=data.get("new_list_name", ""),
            domains=tuple(split_keys(data.get("domains", ""))),
        )


class AddLanguageForm(forms.Form):
    common = forms.ChoiceField(
        label=_("A common language"),
        required=False,
        choices=[("", _("— choose —"))]
        + [(code, f"{name} ({code})") for code, name in COMMON_LANGUAGES],
    )
    key = forms.CharField(
        label=_("Or type another"),
        required=False,
        max_length=64,
        help_text=_("Its own name and the code in brackets, for example Soomaali (so)."),
    )


class SubmissionFilterForm(forms.Form):
    """Filters of the submissions page, read from GET parameters; every field may stay empty."""

    version = forms.TypedChoiceField(
        label=_("Version"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *SubmissionStatus.choices],
    )
    collected_by = forms.CharField(
        label=_("Collected by (username)"), required=False, max_length=150
    )
    since = forms.DateField(
        label=_("Received on or after"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Write the date as 2026-01-31.")},
    )
    until = forms.DateField(
        label=_("Received on or before"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Write the date as 2026-01-31.")},
    )

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["version"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Any version"))] + [(str(n), str(n)) for n in versions]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since: date | None = cleaned.get("since")
        until: date | None = cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("This date must be on or after the first one."))
        return cleaned


class ReviewForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("flag", _("Flag")), ("reject", _("Reject"))]
    )
    reason = forms.CharField(required=False, max_length=2000)


class WithdrawForm(forms.Form):
    code = forms.CharField(
        label=_("Your withdrawal code"),
        max_length=40,
        help_text=_("Ten letters and digits, like ABCD-EFGH-JK. Spaces and dashes do not matter."),
        error_messages={"required": _("Type the code you were given.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
