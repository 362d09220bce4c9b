"""A submitted XForm instance, read safely and turned into incity's answer JSON.

The XML is parsed with defusedxml, refusing DTDs, entities and external
references. The instance mirrors the XForm: groups nest (incity's answers are
flat across groups), each repeat entry is one element (a list of objects),
`meta/instanceID` is the instance id. Values stay ODK's text (space-separated
multiple choices, "lat lon alt acc" points): `validation.validate_answers`
reads those. Map marks come back as a repeat of category, geometry,
time_of_day and comment, whose geometry is turned into GeoJSON here.
Structural problems are collected per answer path, as validation does, and
refused before anything is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element as XmlElement
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import fromstring

from incity.surveys.definition import DISPLAY_TYPES, Element, walk
from incity.surveys.models import FormVersion
from incity.surveys.openrosa.responses import OpenRosaError
from incity.surveys.openrosa.xforms import CONSENT_NAME, CONSENT_SHEET_NAME
from incity.surveys.services.submissions import SubmissionInput

_JR_TEMPLATE = "{http://openrosa.org/javarosa}template"
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_MARK_FIELDS = ("category", "geometry", "time_of_day", "comment")
_MARK_GEOMETRY = {"point": "Point", "line": "LineString", "polygon": "Polygon"}
_VERSION = re.compile(r"[0-9]{1,9}")
# Free-text answers keep their spaces; every other value is read without surrounding ones.
_FREE_TEXT = frozenset({"text", "barcode", "calculate", "hidden"})
_MAX_LISTED_PROBLEMS = 10


@dataclass(frozen=True)
class InstanceHeader:
    form_id: str
    version: int | None


def parse_xml(data: bytes) -> XmlElement:
    """The instance's root element; raises OpenRosaError (400) for anything but plain XML."""
    try:
        root: XmlElement = fromstring(data, forbid_dtd=True, forbid_entities=True)
    except DTDForbidden:
        raise OpenRosaError(
            400, "The submission XML has a DTD (<!DOCTYPE ...>); incity does not accept DTDs."
        ) from None
    except EntitiesForbidden:
        raise OpenRosaError(
            400, "The submission XML declares entities; incity does not accept entities."
        ) from None
    except DefusedXmlException:
        raise OpenRosaError(
            400, "The submission XML refers to external resources; incity does not accept them."
        ) from None
    except ParseError as error:
        raise OpenRosaError(400, f"The submission XML is not well-formed ({error}).") from None
    return root


def read_header(root: XmlElement) -> InstanceHeader:
    """The form id and version the instance names on its root element."""
    form_id = (root.get("id") or "").strip()
    if not form_id:
        raise OpenRosaError(
            400,
            f"The submission's root element <{_local(root.tag)}> has no id attribute "
            "naming its form.",
        )
    if (root.get("encrypted") or "").lower() == "yes":
        raise OpenRosaError(400, "Encrypted submissions are not supported by incity.")
    raw_version = (root.get("version") or "").strip()
    if not raw_version:
        return InstanceHeader(form_id, None)
    if not _VERSION.fullmatch(raw_version):
        raise OpenRosaError(
            400,
            f"The submission is for version '{raw_version[:40]}' of the form '{form_id[:100]}', "
            "which incity did not publish; download the form again.",
        )
    return InstanceHeader(form_id, int(raw_version))


def problems_message(errors: dict[str, str]) -> str:
    """One message naming each problem (the first ten), for the person sending."""
    count = len(errors)
    noun = "problem" if count == 1 else "problems"
    listed = [f"{path}: {message}" for path, message in list(errors.items())[:_MAX_LISTED_PROBLEMS]]
    more = f" (and {count - _MAX_LISTED_PROBLEMS} more)" if count > _MAX_LISTED_PROBLEMS else ""
    return f"The submission has {count} {noun}, nothing was stored. " + " ".join(listed) + more


def to_submission_input(root: XmlElement, version: FormVersion) -> SubmissionInput:
    """The instance as the submission service takes it; raises OpenRosaError (400)."""
    reader = _Reader(version)
    reader.read(root)
    if reader.errors:
        raise OpenRosaError(400, problems_message(reader.errors))
    return SubmissionInput(
        instance_id=reader.instance_id,
        answers=reader.answers,
        started_at=reader.moments.get("start"),
        ended_at=reader.moments.get("end"),
        device_id=reader.device_id,
        version=version.number,
        consent_accepted=reader.consent if version.consent_required else None,
    )


def _local(tag: Any) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _text(element: XmlElement) -> str:
    return element.text or ""


@dataclass
class _Reader:
    version: FormVersion
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    instance_id: str = ""
    device_id: str = ""
    consent: bool | None = None
    moments: dict[str, datetime] = field(default_factory=dict)

    def read(self, root: XmlElement) -> None:
        definition = self.version.definition
        self.container(root, definition["children"], self.answers, "", top=True)
        if not self.instance_id:
            self.errors["meta/instanceID"] = (
                "The submission has no meta/instanceID; incity needs it to store each "
                "submission once."
            )
        if self.version.consent_required and self.consent is not True:
            self.errors[CONSENT_NAME] = (
                "The respondent's consent is missing: the form asks them to agree after "
                "reading the information sheet."
            )

    def container(
        self, xml: XmlElement, elements: list[Element], out: dict[str, Any], prefix: str, top: bool
    ) -> None:
        by_name = {element["name"]: element for element in elements}
        for child in xml:
            name = _local(child.tag)
            path = f"{prefix}{name}"
            if top and name == "meta":
                self.meta(child)
                continue
            if top and self.version.consent_required and name == CONSENT_NAME:
                self.consent = _text(child).strip() == "OK"
                continue
            if top and self.version.consent_required and name == CONSENT_SHEET_NAME:
                continue
            element = by_name.get(name)
            if element is None:
                if len(child) or _text(child).strip():
                    self.errors[path] = (
                        "This is not a question of this version of the form; "
                        "download the form again."
                    )
                continue
            if child.get(_JR_TEMPLATE) is not None:
                continue
            self.element(child, element, out, path, prefix)

    def element(
        self, xml: XmlElement, element: Element, out: dict[str, Any], path: str, prefix: str
    ) -> None:
        kind, name = element["type"], element["name"]
        children = element.get("children", [])
        if kind == "group":
            self.container(xml, children, out, prefix, top=False)
        elif kind in ("repeat", "map_marks"):
            entries = out.setdefault(name, [])
            entry_path = f"{path}[{len(entries) + 1}]"
            if kind == "repeat":
                entry: dict[str, Any] = {}
                self.container(xml, children, entry, entry_path + ".", top=False)
                entries.append(entry)
            else:
                entries.append(self.mark(xml, element, entry_path))
        elif kind in DISPLAY_TYPES:
            return
        elif len(xml):
            self.errors[path] = "Expected a value, found nested elements."
        else:
            self.value(xml, element, out, path)

    def value(self, xml: XmlElement, element: Element, out: dict[str, Any], path: str) -> None:
        kind, name = element["type"], element["name"]
        raw = _text(xml)
        if not raw.strip():
            return
        value = raw if kind in _FREE_TEXT else raw.strip()
        if name in out:
            self.errors[path] = "This question is answered twice."
            return
        out[name] = value
        if kind in ("start", "end"):
            self.moment(kind, value, path)
        elif kind == "deviceid" and not self.device_id:
            self.device_id = value

    def moment(self, which: str, value: str, path: str) -> None:
        if which in self.moments:
            return
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.errors[path] = "Expected a date and time (ISO 8601)."
            return
        self.moments[which] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def meta(self, xml: XmlElement) -> None:
        # pyxform puts an `audit` question's file under meta; the answer keeps its name.
        audits = {
            element["name"]
            for element, _ in walk(self.version.definition["children"])
            if element["type"] == "audit"
        }
        for child in xml:
            name, value = _local(child.tag), _text(child).strip()
            if name == "instanceID":
                self.instance_id = value
            elif name == "deprecatedID" and value:
                self.errors["meta/deprecatedID"] = (
                    "This is an edit of a submission already sent; edits are made in incity, "
                    "not sent again from the phone."
                )
            elif name == "deviceID" and value and not self.device_id:
                self.device_id = value
            elif name in ("timeStart", "timeEnd") and value:
                self.moment("start" if name == "timeStart" else "end", value, f"meta/{name}")
            elif name in audits and value:
                self.answers[name] = value

    def mark(self, xml: XmlElement, element: Element, path: str) -> dict[str, Any]:
        mark: dict[str, Any] = {}
        for child in xml:
            key, raw = _local(child.tag), _text(child)
            if key not in _MARK_FIELDS:
                if len(child) or raw.strip():
                    self.errors[f"{path}.{key}"] = "Not a field of a map mark."
                continue
            if not raw.strip():
                continue
            if key != "geometry":
                mark[key] = raw if key == "comment" else raw.strip()
                continue
            geometry = _geojson(raw, _mark_geometry_kind(element))
            if geometry is None:
                self.errors[f"{path}.geometry"] = (
                    "Expected points as 'latitude longitude altitude accuracy', separated by ';'."
                )
            else:
                mark["geometry"] = geometry
        return mark


def _mark_geometry_kind(element: Element) -> str:
    """The GeoJSON type a mark's geometry has in the XForm (as xlsform's writer chose it)."""
    kinds: list[str] = []
    for token in re.split(r"[\s,;]+", element.get("parameters", "").strip()):
        key, _, value = token.partition("=")
        if key.lower() == "geometry":
            kinds = value.split("|")
    if len(kinds) == 1:
        return _MARK_GEOMETRY.get(kinds[0], "Polygon")
    return "Polygon"


def _geojson(text: str, kind: str) -> dict[str, Any] | None:
    """ODK's 'lat lon alt acc; ...' as GeoJSON of `kind` ([lon, lat(, alt)] as validation keeps)."""
    positions: list[list[float]] = []
    for point in (part.strip() for part in text.split(";")):
        if not point:
            continue
        parts = point.split()
        if not 2 <= len(parts) <= 4 or not all(_DECIMAL.fullmatch(part) for part in parts):
            return None
        numbers = [float(part) for part in parts]
        positions.append([numbers[1], numbers[0], *numbers[2:3]])
    if not positions:
        return None
    if kind == "Point":
        return {"type": "Point", "coordinates": positions[0]} if len(positions) == 1 else None
    if kind == "LineString":
        return {"type": "LineString", "coordinates": positions}
    return {"type": "Polygon", "coordinates": [positions]}
