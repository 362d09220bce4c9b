"""Building what ODK Collect sends: credentials, filled XForm instances, multipart bodies."""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import encode_multipart

from incity.accounts.models import User
from tests.personas import PASSWORD

XFORMS = "http://www.w3.org/2002/xforms"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
BOUNDARY = "----incity-openrosa-test-boundary"
# A tiny real PNG (1x1 pixel), as a phone's photo would be a real JPEG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def as_user(user: User, password: str = PASSWORD) -> dict[str, str]:
    return basic(user.get_username(), password)


def instance_template(xform: bytes) -> ET.Element:
    """The primary instance's root element (e.g. <data id=... version=...>) of an XForm."""
    root = ET.fromstring(xform)
    model = root.find(f".//{{{XFORMS}}}model")
    assert model is not None
    first = model.find(f"{{{XFORMS}}}instance")
    assert first is not None
    return next(iter(first))


def fill(xform: bytes, values: Mapping[str, Any], instance_id: str | None = None) -> bytes:
    """A submission as Collect writes it: the XForm's instance with the values filled in.

    `values` mirrors the instance: a group is a dict, a repeat a list of dicts, a value a
    string. Unanswered questions are sent empty, unused repeats not at all, and
    meta/instanceID is set (a new uuid unless given).
    """
    template = instance_template(xform)
    filled = _filled(
        template,
        {**values, "meta": {"instanceID": new_id() if instance_id is None else instance_id}},
    )
    return ET.tostring(filled, encoding="utf-8", xml_declaration=True)


def new_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _filled(template: ET.Element, values: Mapping[str, Any]) -> ET.Element:
    out = ET.Element(_local(template.tag), dict(template.attrib))
    seen: set[str] = set()
    for child in template:
        name = _local(child.tag)
        if name in seen:  # the second copy of a repeat beside its jr:template
            continue
        seen.add(name)
        value = values.get(name)
        shape = copy.deepcopy(child)
        shape.attrib.pop(JR_TEMPLATE, None)
        if isinstance(value, list):
            for entry in value:
                out.append(_filled(shape, entry))
        elif isinstance(value, dict):
            out.append(_filled(shape, value))
        elif child.get(JR_TEMPLATE) is not None:
            continue
        else:
            element = ET.SubElement(out, name)
            if len(shape):
                element.extend(_filled(shape, {}))
            element.text = None if value is None else str(value)
    return out


def multipart(
    xml: bytes | None, files: Mapping[str, bytes] | None = None, **fields: str
) -> tuple[bytes, str]:
    """A multipart/form-data body as Collect sends it: the XML part, then each file."""
    data: dict[str, Any] = dict(fields)
    if xml is not None:
        data["xml_submission_file"] = SimpleUploadedFile(
            "submission.xml", xml, content_type="text/xml"
        )
    for name, content in (files or {}).items():
        data[name] = SimpleUploadedFile(name, content, content_type="image/png")
    return encode_multipart(BOUNDARY, data), f"multipart/form-data; boundary={BOUNDARY}"


def post_submission(
    client: Client,
    slug: str,
    headers: Mapping[str, str],
    xml: bytes | None,
    files: Mapping[str, bytes] | None = None,
    **fields: str,
) -> Any:
    body, content_type = multipart(xml, files, **fields)
    return client.generic(
        "POST",
        f"/openrosa/{slug}/submission",
        body,
        content_type=content_type,
        headers={**headers, "X-OpenRosa-Version": "1.0"},
    )


def response_message(response: Any) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == "{http://openrosa.org/http/response}OpenRosaResponse"
    message = root.find("{http://openrosa.org/http/response}message")
    assert message is not None
    return message.text or ""
