"""The export page of a form: start an export, watch its progress, download the file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from incity.accounts.audit import Origin
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, Forbidden, IncityError, NotFound
from incity.exports import queries, services
from incity.exports.api import job_out
from incity.exports.engine import ExportOptions, definitions_of, parse_since
from incity.exports.models import ExportFormat, LabelMode
from incity.surveys.models import Form
from incity.surveys.queries import get_form
from incity.surveys.views.common import page
from incity.web.guards import signed_in_user


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=ExportFormat.choices)
    labels = forms.ChoiceField(
        label=gettext_lazy("Choices as"),
        choices=LabelMode.choices,
        initial=LabelMode.CODES,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of the labels"))
    since = forms.DateField(
        label=gettext_lazy("Only submissions received on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    include_sensitive = forms.BooleanField(
        label=gettext_lazy("Include sensitive answers"), required=False
    )

    def __init__(self, *args: Any, languages: list[str], sensitive: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [(key, key) for key in languages]
        if not sensitive:
            del self.fields["include_sensitive"]


def _languages(form: Form) -> list[str]:
    try:
        return list(definitions_of(form)[0].get("languages") or [])
    except Conflict:
        return []


def _context(request: HttpRequest, form: Form, export_form: ExportForm) -> dict[str, Any]:
    user = signed_in_user(request)
    jobs = queries.recent_jobs(user, form.pk)
    return {
        "form": form,
        "export_form": export_form,
        "published": bool(_languages(form)),
        "jobs": [(job, job_out(job)) for job in jobs],
    }


@page
@require_GET
def export_page(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.EXPORT_RAW_DATA)
    export_form = ExportForm(
        languages=_languages(found), sensitive=services.may_see_sensitive(user, found)
    )
    return render(request, "exports/form.html", _context(request, found, export_form))


@page
@require_POST
def export_start(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.EXPORT_RAW_DATA)
    export_form = ExportForm(
        request.POST,
        languages=_languages(found),
        sensitive=services.may_see_sensitive(user, found),
    )
    if not export_form.is_valid():
        response = render(request, "exports/form.html", _context(request, found, export_form))
        response.status_code = 422
        return response
    data = export_form.cleaned_data
    since = data.get("since")
    try:
        job = services.start_export(
            acting_user=user,
            origin=Origin.from_request(request),
            form_pk=found.pk,
            options=ExportOptions(
                format=data["format"],
                labels=data["labels"],
                language=data["language"],
                since=parse_since(since.isoformat()) if since else None,
                include_sensitive=bool(data.get("include_sensitive")),
            ),
        )
    except (NotFound, Forbidden):
        raise
    except IncityError as error:
        messages.error(request, error.message)
        response = render(request, "exports/form.html", _context(request, found, export_form))
        response.status_code = error.status
        return response
    messages.success(request, _("The export has started; this page shows its progress."))
    return redirect(f"{reverse('exports:form', args=[found.pk])}#export-{job.pk}")


@page
@require_GET
def export_status(request: HttpRequest, job: int) -> JsonResponse:
    found = queries.get_job(signed_in_user(request), job)
    data = job_out(found)
    data["download_url"] = (
        reverse("exports:download", args=[found.pk]) if data["download_url"] else None
    )
    return JsonResponse(data)


@page
@require_GET
def export_download(request: HttpRequest, job: int) -> HttpResponse:
    user = signed_in_user(request)
    found = queries.get_job(user, job)
    try:
        path, found = services.open_download(
            acting_user=user, origin=Origin.from_request(request), job_pk=found.pk
        )
    except Conflict as error:
        messages.error(request, error.message)
        return redirect(reverse("exports:form", args=[found.form_id]))
    # A streamed file: the page guard only needs a response it can pass through.
    return FileResponse(path.open("rb"), as_attachment=True, filename=found.download_name)  # type: ignore[return-value]
