"""Raw submissions for roles that may read them: the list, one submission, review and correction.

Every page here is a raw read and is audited by `incity.surveys.queries`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from incity.accounts import access
from incity.accounts.permissions import ProjectAction
from incity.errors import Conflict, IncityError, InvalidInput
from incity.surveys import queries
from incity.surveys.definition import (
    SELECT_TYPES,
    Element,
    FormDefinition,
    element_kind,
    text_in,
    walk,
)
from incity.surveys.queries import SubmissionQuery, get_form, get_submission
from incity.surveys.services import review as review_services
from incity.surveys.services.outcomes import SubmissionInvalid
from incity.surveys.views.common import origin, page, signed_in_user
from incity.surveys.views.inputs import ReviewForm, SubmissionFilterForm

PAGE_SIZE = 50


@dataclass(frozen=True)
class AnswerRow:
    name: str
    label: str
    value: str
    is_long: bool


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@require_safe
@page
def submission_list(request: HttpRequest, form: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_form(user, form, ProjectAction.VIEW_RAW_DATA)
    numbers = list(found.versions.order_by("-number").values_list("number", flat=True))
    filters = SubmissionFilterForm(request.GET or None, versions=numbers)
    context: dict[str, Any] = {
        "form": found,
        "project": found.project,
        "filters": filters,
        "page": None,
        "error": "",
        "is_first_page": not request.GET.get("cursor"),
    }
    if request.GET and not filters.is_valid():
        return render(request, "surveys/submissions.html", context, status=422)
    data = filters.cleaned_data if request.GET else {}
    until = data.get("until")
    query = SubmissionQuery(
        version=data.get("version"),
        since=_start_of(data["since"]) if data.get("since") else None,
        until=_start_of(until + dt.timedelta(days=1)) if until else None,
        collected_by=data.get("collected_by") or None,
        status=data.get("status") or None,
        cursor=request.GET.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    try:
        context["page"] = queries.submission_page(user, origin(request), found.pk, query)
    except InvalidInput as error:
        context["error"] = error.message
        return render(request, "surveys/submissions.html", context, status=422)
    return render(request, "surveys/submissions.html", context)


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


def _answered_elements(definition: FormDefinition) -> list[Element]:
    """Elements whose answers are kept under their own name: questions outside repeats, and
    the repeats themselves (their answers are lists of instances)."""
    found = []
    for element, parents in walk(definition["children"]):
        if any(parent["type"] == "repeat" for parent in parents):
            continue
        kind = element_kind(element["type"])
        if element["type"] == "repeat" or kind not in ("structure", "display"):
            found.append(element)
    return found


def _with_labels(element: Element, value: Any, definition: FormDefinition) -> str:
    """A select's choice names shown with their labels: 'Private rent (private_rent)'."""
    choices = definition["choices"].get(element.get("list_name", ""), [])
    if element["type"] not in SELECT_TYPES or not choices:
        return _display(value)
    labels = {
        choice["name"]: text_in(choice.get("label"), definition["default_language"])
        for choice in choices
    }
    names = value if isinstance(value, list) else [value]
    if not all(isinstance(name, str) for name in names):
        return _display(value)
    return ", ".join(f"{labels[name]} ({name})" if labels.get(name) else name for name in names)


def answer_rows(definition: FormDefinition, answers: dict[str, Any]) -> list[AnswerRow]:
    default = definition["default_language"]
    rows = []
    seen: set[str] = set()
    for element in _answered_elements(definition):
        name = element["name"]
        if name not in answers:
            continue
        seen.add(name)
        value = _with_labels(element, answers[name], definition)
        rows.append(AnswerRow(name, text_in(element.get("label"), default), value, "\n" in value))
    # Answers the version does not name (kept as sent) are shown too.
    for name, raw in answers.items():
        if name not in seen:
            value = _display(raw)
            rows.append(AnswerRow(name, "", value, "\n" in value))
    return rows


def _detail_page(
    request: HttpRequest,
    submission_pk: int,
    *,
    status: int = 200,
    review_error: str = "",
    edit_errors: dict[str, str] | None = None,
    edit_text: str | None = None,
    edit_reason: str = "",
) -> HttpResponse:
    user = signed_in_user(request)
    submission, answers = queries.read_submission(user, origin(request), submission_pk)
    revisions = queries.read_revisions(user, origin(request), submission_pk)
    definition: FormDefinition = submission.version.definition
    context = {
        "submission": submission,
        "form": submission.form,
        "project": submission.project,
        "answers": answer_rows(definition, answers),
        "revisions": [
            (revision, answer_rows(definition, queries.revision_answers(revision)))
            for revision in revisions
        ],
        "may_review": access.can_project(
            user, ProjectAction.REVIEW_SUBMISSIONS, submission.project
        ),
        "review_error": review_error,
        "edit_errors": edit_errors or {},
        "edit_text": edit_text
        if edit_text is not None
        else json.dumps(answers, ensure_ascii=False, indent=2),
        "edit_reason": edit_reason,
    }
    return render(request, "surveys/submission.html", context, status=status)


@require_safe
@page
def submission_detail(request: HttpRequest, submission: int) -> HttpResponse:
    return _detail_page(request, submission)


@require_POST
@page
def submission_review(request: HttpRequest, submission: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_submission(user, submission, ProjectAction.REVIEW_SUBMISSIONS)
    review = ReviewForm(request.POST)
    if not review.is_valid():
        return _detail_page(
            request, found.pk, status=422, review_error=_("Choose approve, flag or reject.")
        )
    action = review.cleaned_data["action"]
    try:
        review_services.review_submission(
            acting_user=user,
            origin=origin(request),
            submission_pk=found.pk,
            action=action,
            reason=review.cleaned_data["reason"],
        )
    except IncityError as error:
        return _detail_page(request, found.pk, status=error.status, review_error=error.message)
    done = {
        "approve": _("The submission is approved."),
        "flag": _("The submission is flagged."),
        "reject": _("The submission is rejected."),
    }
    messages.success(request, done[action])
    return redirect("surveys:submission", submission=found.pk)


@require_POST
@page
def submission_edit(request: HttpRequest, submission: int) -> HttpResponse:
    user = signed_in_user(request)
    found = get_submission(user, submission, ProjectAction.REVIEW_SUBMISSIONS)
    text = request.POST.get("answers", "")
    reason = request.POST.get("reason", "")

    def again(errors: dict[str, str], status: int) -> HttpResponse:
        return _detail_page(
            request,
            found.pk,
            status=status,
            edit_errors=errors,
            edit_text=text,
            edit_reason=reason,
        )

    try:
        answers = json.loads(text)
    except ValueError as error:
        return again({"answers": _("The answers are not valid JSON: %(e)s") % {"e": error}}, 422)
    if not isinstance(answers, dict):
        return again(
            {"answers": _("The answers must be a JSON object keyed by question name.")}, 422
        )
    try:
        review_services.edit_submission(
            acting_user=user,
            origin=origin(request),
            submission_pk=found.pk,
            answers=answers,
            reason=reason,
        )
    except SubmissionInvalid as error:
        return again(dict(error.errors), 422)
    except InvalidInput as error:
        return again({error.field: error.message}, 422)
    except Conflict as error:
        return again({"": error.message}, 409)
    messages.success(
        request, _("The answers are corrected; the previous ones are kept as a revision.")
    )
    return redirect("surveys:submission", submission=found.pk)
