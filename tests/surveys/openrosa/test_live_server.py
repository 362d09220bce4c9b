"""ODK Collect's conversation with a running incity, over real HTTP (http.client):
challenge, HEAD, form list, download, POST multipart with a photo, duplicate."""

from __future__ import annotations

import hashlib
import http.client
import uuid
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

from incity.surveys.models import Submission, SubmissionAttachment
from tests.personas import Cast
from tests.surveys.openrosa.conftest import FIELD_FORM
from tests.surveys.openrosa.helpers import PNG, as_user, fill

LIST_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"


class Phone:
    """What Collect does on the wire: OpenRosa headers on every request, Basic credentials."""

    def __init__(self, base_url: str, credentials: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "localhost", parts.port or 80
        self.credentials = credentials

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={
                    "X-OpenRosa-Version": "1.0",
                    "Date": "Sun, 01 Nov 2026 10:00:00 GMT",
                    **self.credentials,
                    **(headers or {}),
                },
            )
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_multipart(self, path: str, xml: bytes, files: dict[str, bytes]) -> tuple[int, bytes]:
        boundary = uuid.uuid4().hex
        chunks = [_part(boundary, "xml_submission_file", "submission.xml", "text/xml", xml)]
        chunks += [_part(boundary, name, name, "image/png", data) for name, data in files.items()]
        body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        status, _, content = self.request(
            "POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        return status, content


def _part(boundary: str, name: str, filename: str, content_type: str, data: bytes) -> bytes:
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode() + data + b"\r\n"


def _message(content: bytes) -> str:
    root = ET.fromstring(content)
    return root.findtext(f"{RESPONSE_NS}message") or ""


@pytest.fixture
def running(live_server: Any, transactional_db: None, cast: Cast, field_walk: Any) -> str:
    return str(live_server.url)


def test_collect_is_challenged_then_lists_downloads_and_submits_once(
    running: str, cast: Cast
) -> None:
    slug = cast.survey.slug
    anonymous = Phone(running, {})
    status, headers, _ = anonymous.request("HEAD", f"/openrosa/{slug}/submission")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="incity"'
    assert headers["X-OpenRosa-Version"] == "1.0"

    phone = Phone(running, as_user(cast.fieldworker))
    status, headers, content = phone.request("GET", f"/openrosa/{slug}/formList")
    assert status == 200
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    xform = ET.fromstring(content).find(f"{LIST_NS}xform")
    assert xform is not None
    assert xform.findtext(f"{LIST_NS}formID") == FIELD_FORM["form_id"]
    download = urlsplit(xform.findtext(f"{LIST_NS}downloadUrl") or "")
    assert f"{download.scheme}://{download.netloc}" == running

    status, _, form_xml = phone.request("GET", download.path)
    assert status == 200
    assert xform.findtext(f"{LIST_NS}hash") == "md5:" + hashlib.md5(form_xml).hexdigest()

    status, headers, _ = phone.request("HEAD", f"/openrosa/{slug}/submission")
    assert status == 204
    assert int(headers["X-OpenRosa-Accept-Content-Length"]) > 1_000_000

    values = {
        "street": {"street_name": "Mill Lane", "features": "bench", "spot": "52.5 -1.9 0 4"},
        "overview": "overview.png",
    }
    xml = fill(form_xml, values)
    status, content = phone.post_multipart(
        f"/openrosa/{slug}/submission", xml, {"overview.png": PNG}
    )
    assert status == 201, content
    assert "received and stored" in _message(content)
    status, content = phone.post_multipart(
        f"/openrosa/{slug}/submission", xml, {"overview.png": PNG}
    )
    assert status == 202
    assert "already received" in _message(content)

    submission = Submission.objects.get()
    assert submission.answers["street_name"] == "Mill Lane"
    assert submission.answers["features"] == ["bench"]
    attachment = SubmissionAttachment.objects.get()
    assert attachment.md5 == hashlib.md5(PNG).hexdigest()


def test_over_the_wire_refusals_are_openrosa_documents(running: str, cast: Cast) -> None:
    phone = Phone(running, as_user(cast.fieldworker))
    slug = cast.survey.slug
    status, content = phone.post_multipart(
        f"/openrosa/{slug}/submission", b"<data id='field_walk'><broken></data>", {}
    )
    assert status == 400
    assert "not well-formed" in _message(content)
    status, content = phone.post_multipart(
        f"/openrosa/{slug}/submission",
        b'<!DOCTYPE data [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="field_walk">&x;</data>',
        {},
    )
    assert status == 400
    assert "DTD" in _message(content)
    wrong = Phone(running, {"Authorization": "Basic ZmF0aW1hOndyb25n"})  # fatima:wrong
    status, _, content = wrong.request("GET", f"/openrosa/{slug}/formList")
    assert status == 401
    assert _message(content) == "The username or password is wrong."
    assert Submission.objects.count() == 0
