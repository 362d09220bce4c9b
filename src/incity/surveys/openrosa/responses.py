"""OpenRosa responses: the headers every answer carries and the OpenRosaResponse envelope."""

from __future__ import annotations

from typing import TypeVar
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase
from django.utils.http import http_date

from incity.errors import Conflict, Forbidden, IncityError, InvalidInput, NotFound, Unauthenticated

OPENROSA_VERSION = "1.0"
REALM = "incity"
RESPONSE_NS = "http://openrosa.org/http/response"
XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
_Response = TypeVar("_Response", bound=HttpResponseBase)


class OpenRosaError(Exception):
    """A refusal: the status the OpenRosa specification prescribes and a message saying why."""

    def __init__(self, status: int, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


def from_incity_error(error: IncityError) -> OpenRosaError:
    """A service's refusal in OpenRosa's terms (which knows no 409 or 422)."""
    if isinstance(error, Unauthenticated):
        return OpenRosaError(401, error.message)
    if isinstance(error, NotFound):
        return OpenRosaError(404, error.message)
    if isinstance(error, Forbidden | Conflict):
        # A closed form or project: "you're not allowed to post", not a fault in the data.
        return OpenRosaError(403, error.message)
    if isinstance(error, InvalidInput):
        return OpenRosaError(400, error.message)
    return OpenRosaError(400, error.message)


def stamp(response: _Response, *, submission: bool = False) -> _Response:
    """The headers of every OpenRosa response (and the size limit on submission answers)."""
    response["X-OpenRosa-Version"] = OPENROSA_VERSION
    response["Date"] = http_date()
    if submission:
        response["X-OpenRosa-Accept-Content-Length"] = str(settings.OPENROSA_MAX_BYTES)
    return response


def xml_document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def xml_response(body: bytes, *, status: int = 200, submission: bool = False) -> HttpResponse:
    return stamp(
        HttpResponse(body, status=status, content_type=XML_CONTENT_TYPE), submission=submission
    )


def message_response(
    status: int, message: str, *, nature: str = "", submission: bool = False
) -> HttpResponse:
    """An OpenRosaResponse envelope; Collect shows its message to the person sending."""
    root = ET.Element("OpenRosaResponse", xmlns=RESPONSE_NS)
    element = ET.SubElement(root, "message")
    if nature:
        element.set("nature", nature)
    element.text = message
    return xml_response(xml_document(root), status=status, submission=submission)


def error_response(error: OpenRosaError, *, submission: bool = False) -> HttpResponse:
    nature = "submit_error" if submission else ""
    response = message_response(error.status, error.message, nature=nature, submission=submission)
    if error.status == 401:
        # The challenge Collect answers by asking for (or sending) the username and password.
        response["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    if error.retry_after_s is not None:
        response["Retry-After"] = str(error.retry_after_s)
    return response
