"""The collection app's pages and JSON endpoints.

A signed-in collector (a role with `collect` in an active project) opens
/collect/<project>/<form>/; a resident opens the same address with
`?link=<token>`, the form's public link. The JSON endpoints take the token from
the `X-Collect-Link` header (or `link` in the query) and then need no session;
without one they need a session and Django's CSRF token.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST, require_safe
from pydantic import BaseModel, ValidationError

from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.collect import pwa, queries, runtime
from incity.collect.models import PublicLink
from incity.collect.services import submit_from_app
from incity.errors import Conflict, Forbidden, IncityError, InvalidInput, NotFound, Unauthenticated
from incity.fieldwork import services as fieldwork_services
from incity.fieldwork.models import DeviceApp
from incity.surveys.definition import is_right_to_left, language_code
from incity.surveys.models import Form
from incity.surveys.submissions_api import SubmissionIn
from incity.web.views.errors import forbidden, not_found

CHANNEL = "collect"
LINK_HEADER = "X-Collect-Link"
# A submission with every map mark and comment of the DiPS form is some 20 KB; this leaves
# room for long free-text answers and large drawn areas, and refuses anything else early.
MAX_SUBMISSION_BYTES = 512 * 1024


class PayloadTooLarge(IncityError):
    status = 413


def _origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request, channel=CHANNEL)


def _token(request: HttpRequest) -> str:
    return (request.headers.get(LINK_HEADER) or request.GET.get("link") or "").strip()


def _resolve(request: HttpRequest, slug: str, form_id: str) -> tuple[Form, PublicLink | None]:
    """The form and, for a resident, the live public link; refusals as domain errors."""
    token = _token(request)
    if token:
        link = queries.link_for(slug, form_id, token)
        return link.form, link
    if not request.user.is_authenticated:
        raise Unauthenticated(
            "Sign in to collect answers, or open the form's public link.", form=form_id
        )
    return queries.form_for_collector(request.user, slug, form_id), None


def _json_error(error: IncityError, **headers: str) -> JsonResponse:
    response = JsonResponse({"message": error.message, "extra": error.extra}, status=error.status)
    for name, value in headers.items():
        response[name] = value
    return response


def _unused_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _csrf_refusal(request: HttpRequest) -> JsonResponse | None:
    """Django's CSRF check for session-authenticated posts (views here are csrf_exempt so
    that token-authenticated posts from residents, which carry no session, need none)."""
    middleware = CsrfViewMiddleware(_unused_response)
    refused = middleware.process_view(request, _unused_response, (), {})
    if refused is None:
        return None
    return _json_error(
        Forbidden("The page's security token is out of date; reload the page and send again.")
    )


def _urls(form: Form, link: PublicLink | None) -> dict[str, str]:
    base = reverse("collect:app", args=[form.project.slug, form.form_id])
    query = f"?{urlencode({'link': link.token})}" if link else ""
    return {
        "app": base + query,
        "manifest": reverse("collect:manifest", args=[form.project.slug, form.form_id]) + query,
        "submissions": reverse("collect:submissions", args=[form.project.slug, form.form_id]),
        "sync": reverse("collect:sync", args=[form.project.slug, form.form_id]),
        "worker": reverse("collect:service_worker"),
        "scope": reverse("collect:app", args=[form.project.slug, form.form_id]),
    }


def _page_refusal(request: HttpRequest, error: IncityError) -> HttpResponse:
    if isinstance(error, NotFound):
        return not_found(request, error)
    if isinstance(error, Forbidden):
        return forbidden(request, error)
    return render(
        request,
        "collect/unavailable.html",
        {"message": error.message, "status": error.status},
        status=error.status,
    )


@require_safe
@ensure_csrf_cookie
@gzip_page
def app(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    """The app page: the shell that loads the runtime and renders the form offline."""
    try:
        form, link = _resolve(request, slug, form_id)
        version = queries.published_version(form)
    except Unauthenticated:
        return redirect_to_login(request.get_full_path())
    except (NotFound, Forbidden, Conflict) as error:
        return _page_refusal(request, error)
    urls = _urls(form, link)
    query = {"v": str(version.number)} | ({"link": link.token} if link else {})
    runtime_url = (
        reverse("collect:runtime", args=[form.project.slug, form.form_id]) + "?" + urlencode(query)
    )
    language = version.definition["default_language"]
    _assets, digest = pwa.shell_assets()
    config: dict[str, Any] = {
        "key": f"{form.project.slug}/{form.form_id}",
        "runtime": runtime_url,
        "submissions": urls["submissions"],
        "sync": urls["sync"],
        "worker": urls["worker"],
        "scope": urls["scope"],
        "page": urls["app"],
        "pagesCache": pwa.PAGES_CACHE,
        "shell": digest,
        "link": link.token if link else "",
        "public": link is not None,
        "user": request.user.get_username() if link is None else "",
        "interfaceLanguage": request.LANGUAGE_CODE,
        "version": version.number,
    }
    context = {
        "form": form,
        "config": config,
        "manifest_url": urls["manifest"],
        "lang": language_code(language) or request.LANGUAGE_CODE,
        "rtl": is_right_to_left(language),
        "is_synthetic": form.is_synthetic or form.project.is_synthetic,
        "public": link is not None,
        "app_js": static("collect/app.js"),
        "app_css": static("collect/app.css"),
        "icon": static("collect/icon.svg"),
    }
    response = render(request, "collect/app.html", context)
    # The page holds no answers; the service worker keeps its own copy for offline use.
    response["Cache-Control"] = "no-cache, private"
    return response


@require_safe
def manifest(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    try:
        form, link = _resolve(request, slug, form_id)
        version = queries.published_version(form)
    except IncityError as error:
        return _json_error(error)
    urls = _urls(form, link)
    language = version.definition["default_language"]
    body = pwa.manifest(
        form,
        start_url=urls["app"],
        scope=urls["scope"],
        language=language_code(language) or "en",
        rtl=is_right_to_left(language),
    )
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "no-cache, private"
    return response


@require_safe
@gzip_page
def runtime_view(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    """The published version as the app runs it (see runtime.py); cached by the worker."""
    try:
        form, link = _resolve(request, slug, form_id)
        version = queries.published_version(form)
    except IncityError as error:
        return _json_error(error)
    body = runtime.runtime_json(form, version, public=link is not None)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-cache, private"
    return response


def _read_json(request: HttpRequest) -> dict[str, Any]:
    length = int(request.headers.get("Content-Length") or 0)
    if length > MAX_SUBMISSION_BYTES:
        raise PayloadTooLarge(
            f"The submission is {length // 1024} KB; the limit is "
            f"{MAX_SUBMISSION_BYTES // 1024} KB. Shorten the longest answers.",
            limit_bytes=MAX_SUBMISSION_BYTES,
        )
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body", "The body is not JSON; the app sends JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", "The body must be a JSON object.")
    return data


def _schema_errors(error: ValidationError) -> InvalidInput:
    errors = {
        ".".join(str(part) for part in problem["loc"]) or "body": problem["msg"]
        for problem in error.errors()
    }
    first = next(iter(errors))
    return InvalidInput(first, f"{first}: {errors[first]}", errors=errors)


def _stored(result: Any) -> dict[str, Any]:
    submission = result.submission
    return {
        "id": submission.pk if submission else None,
        "instance_id": result.instance_id,
        "outcome": result.outcome,
        "version": submission.version.number if submission else None,
        "received_at": submission.received_at.isoformat() if submission else None,
        "withdrawal_code": result.withdrawal_code,
    }


@csrf_exempt
@require_POST
def submissions(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    """Store one submission: 201 stored, 200 already stored, 422 with a message per field."""
    try:
        form, link = _resolve(request, slug, form_id)
        if link is None:
            refused = _csrf_refusal(request)
            if refused is not None:
                return refused
        data = _read_json(request)
        try:
            item = SubmissionIn.model_validate(data).to_input()
        except ValidationError as error:
            raise _schema_errors(error) from None
        user = request.user if link is None and isinstance(request.user, User) else None
        result = submit_from_app(
            acting_user=user, origin=_origin(request), form=form, item=item, link=link
        )
    except IncityError as error:
        if error.status == 429:
            return _json_error(error, **{"Retry-After": str(error.extra.get("retry_after", 3600))})
        return _json_error(error)
    return JsonResponse(_stored(result), status=201 if result.outcome == "created" else 200)


class DeviceReport(BaseModel):
    device_id: str
    pending: int
    sent: int
    last_error: str = ""


@csrf_exempt
@require_POST
def sync(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    """The device's queue as it stands (waiting, sent, last error) for the fieldwork view."""
    try:
        form, link = _resolve(request, slug, form_id)
        if link is None:
            refused = _csrf_refusal(request)
            if refused is not None:
                return refused
        try:
            report = DeviceReport.model_validate(_read_json(request))
        except ValidationError as error:
            raise _schema_errors(error) from None
        user = request.user if link is None and isinstance(request.user, User) else None
        fieldwork_services.record_device_report(
            acting_user=user,
            origin=_origin(request),
            project=form.project,
            device_id=report.device_id,
            app=DeviceApp.WEB,
            pending=report.pending,
            sent_total=report.sent,
            last_error=report.last_error,
        )
    except IncityError as error:
        return _json_error(error)
    return JsonResponse({"recorded": True}, status=200)
