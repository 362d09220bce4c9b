"""The OpenRosa endpoints (see the package docstring): form list, XForm, manifest, media,
and the submission endpoint. Every answer is OpenRosa XML with the OpenRosa headers."""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import OperationalError, transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from incity.accounts import access
from incity.accounts.audit import Origin
from incity.accounts.models import Project, User
from incity.accounts.permissions import ProjectAction
from incity.errors import IncityError
from incity.surveys.models import Form, FormStatus
from incity.surveys.openrosa import instance, xforms
from incity.surveys.openrosa.attachments import attachment_inputs, xml_part
from incity.surveys.openrosa.auth import authenticated_user
from incity.surveys.openrosa.responses import (
    OpenRosaError,
    error_response,
    from_incity_error,
    message_response,
    stamp,
    xml_response,
)
from incity.surveys.services.attachments import AttachmentInput, attach_files, attachment_names
from incity.surveys.services.outcomes import SubmissionInvalid
from incity.surveys.services.submissions import SubmissionInput, SubmitResult, submit

logger = logging.getLogger(__name__)
View = Callable[..., HttpResponseBase]
CHANNEL = "openrosa"
_LOCKED_ATTEMPTS = 4


def openrosa_view(methods: tuple[str, ...], *, submission: bool = False) -> Callable[[View], View]:
    """Method check, OpenRosa errors as OpenRosaResponse documents, never a traceback."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                response = message_response(
                    405, f"Use {' or '.join(methods)} here.", submission=submission
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except OpenRosaError as error:
                return error_response(error, submission=submission)
            except SubmissionInvalid as invalid:
                message = instance.problems_message(invalid.errors)
                return error_response(OpenRosaError(400, message), submission=submission)
            except IncityError as error:
                return error_response(from_incity_error(error), submission=submission)
            except OperationalError:
                logger.warning("OpenRosa request found the database busy: %s", request.path)
                busy = OpenRosaError(
                    503,
                    "The server is busy; nothing was stored. Send again in a minute.",
                    retry_after_s=60,
                )
                return error_response(busy, submission=submission)
            except Exception:
                logger.exception("OpenRosa request failed: %s %s", request.method, request.path)
                failure = OpenRosaError(
                    500, "Something went wrong on the server; nothing was stored. Try again later."
                )
                return error_response(failure, submission=submission)

        return wrapped

    return decorate


def _collecting(request: HttpRequest, slug: str) -> tuple[User, Project]:
    """The signed-in user and the project, if they may collect in it (else 401/403/404)."""
    user = authenticated_user(request)
    return user, access.get_project(user, slug, ProjectAction.COLLECT)


def _served(project: Project, form_id: str) -> xforms.ServedForm:
    served = xforms.served_forms(xforms.open_forms(project, form_id))
    if not served:
        raise OpenRosaError(404, f"No open form '{form_id[:100]}' in the project '{project.slug}'.")
    return served[0]


@openrosa_view(("GET", "HEAD"))
def form_list(request: HttpRequest, slug: str) -> HttpResponse:
    _, project = _collecting(request, slug)
    form_id = request.GET.get("formID")
    served = xforms.served_forms(xforms.open_forms(project, form_id or None))
    return xml_response(xforms.form_list_document(request, project, served))


@openrosa_view(("GET", "HEAD"))
def form_xml(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    _, project = _collecting(request, slug)
    return xml_response(_served(project, form_id).xml)


@openrosa_view(("GET", "HEAD"))
def manifest(request: HttpRequest, slug: str, form_id: str) -> HttpResponse:
    _, project = _collecting(request, slug)
    served = _served(project, form_id)
    return xml_response(xforms.manifest_document(request, project, served))


@openrosa_view(("GET", "HEAD"))
def media(request: HttpRequest, slug: str, form_id: str, filename: str) -> HttpResponseBase:
    _, project = _collecting(request, slug)
    served = _served(project, form_id)
    item = next((item for item in served.media if item.filename == filename), None)
    if item is None:
        raise OpenRosaError(404, f"The form '{form_id}' has no media file '{filename[:100]}'.")
    content_type = mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
    response = FileResponse(item.file.open("rb"), content_type=content_type)
    response["Content-Length"] = str(item.size)
    return stamp(response)


@openrosa_view(("HEAD", "POST"), submission=True)
def submission(request: HttpRequest, slug: str) -> HttpResponse:
    user, project = _collecting(request, slug)
    if request.method == "HEAD":
        return stamp(HttpResponse(status=204), submission=True)
    return _receive(request, user, project)


def _receive(request: HttpRequest, user: User, project: Project) -> HttpResponse:
    limit = settings.OPENROSA_MAX_BYTES
    _check_length(request, limit)
    if request.content_type != "multipart/form-data":
        raise OpenRosaError(
            400,
            "Send the submission as multipart/form-data with the XML in a part named "
            "xml_submission_file.",
        )
    try:
        files, fields = request.FILES, request.POST
    except RequestDataTooBig:
        raise OpenRosaError(413, _too_large(limit)) from None
    except (TooManyFilesSent, TooManyFieldsSent):
        raise OpenRosaError(400, "The submission has too many parts.") from None
    except MultiPartParserError as error:
        raise OpenRosaError(400, f"The multipart body cannot be read ({error}).") from None
    root = instance.parse_xml(xml_part(files, fields))
    header = instance.read_header(root)
    form = _submitted_form(project, header.form_id)
    version = (
        form.latest_version()
        if header.version is None
        else form.versions.filter(number=header.version).first()
    )
    if version is None:
        raise OpenRosaError(
            400,
            f"The form '{form.form_id}' has no version {header.version}; download it again.",
        )
    item = instance.to_submission_input(root, version)
    attachments = attachment_inputs(
        files, attachment_names(version.definition, item.answers), limit
    )
    origin = Origin.from_request(request, channel=CHANNEL)
    for attempt in range(_LOCKED_ATTEMPTS):
        try:
            result, added = _store(user, origin, form, item, attachments, limit)
            return _received(result, added)
        except OperationalError as error:
            # SQLite allows one writer; under a burst a request can wait past the busy
            # timeout. Storing is idempotent (the instance id), so trying again is safe.
            if "database is locked" not in str(error) or attempt + 1 == _LOCKED_ATTEMPTS:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _store(
    user: User,
    origin: Origin,
    form: Form,
    item: SubmissionInput,
    attachments: list[AttachmentInput],
    limit: int,
) -> tuple[SubmitResult, int]:
    """The submission and its files in one transaction: both are stored, or neither."""
    with transaction.atomic():
        result = submit(acting_user=user, origin=origin, form_pk=form.pk, item=item)
        same_collector = result.submission is not None and (
            result.submission.collected_by_id == user.pk
        )
        # A phone that split a large submission sends its other files with the same XML.
        if result.submission is None or not (
            result.outcome == "created" or (result.outcome == "duplicate" and same_collector)
        ):
            return result, 0
        stored = attach_files(
            acting_user=user,
            origin=origin,
            submission=result.submission,
            files=attachments,
            max_bytes=limit,
        )
    return result, len(stored)


def _check_length(request: HttpRequest, limit: int) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise OpenRosaError(400, "The Content-Length header is not a number.") from None
    if length > limit:
        raise OpenRosaError(413, _too_large(limit, length))


def _too_large(limit: int, length: int | None = None) -> str:
    size = f" is {length / 1024 / 1024:.1f} MB; it" if length is not None else ""
    return (
        f"The submission{size} is larger than this server takes in one request "
        f"({limit // (1024 * 1024)} MB). Send it again: the app splits large submissions."
    )


def _submitted_form(project: Project, form_id: str) -> Form:
    form = Form.objects.filter(project=project, form_id=form_id).first()
    if form is None or (form.status == FormStatus.DRAFT and not form.versions.exists()):
        raise OpenRosaError(
            404, f"No form '{form_id[:100]}' in the project '{project.slug}'; check the server URL."
        )
    if form.status != FormStatus.OPEN:
        state = "is closed" if form.status == FormStatus.CLOSED else "is not open for answers"
        raise OpenRosaError(403, f"The form '{form.form_id}' {state}; it takes no answers.")
    return form


def _received(result: SubmitResult, added: int) -> HttpResponse:
    files = f" with {added} file{'s' if added != 1 else ''}" if added else ""
    if result.outcome == "created":
        status, message = 201, f"Thank you: the submission was received and stored{files}."
    elif result.outcome == "duplicate" and added:
        status, message = (
            201,
            f"The submission was already received; {added} more files were added.",
        )
    elif result.outcome == "duplicate":
        status, message = 202, "This submission was already received; it was not stored again."
    else:
        status, message = (
            202,
            "The respondent withdrew this submission's answers; they are not stored again.",
        )
    return message_response(status, message, nature="submit_success", submission=True)
