"""The forms a phone downloads: the XForm of each open form's published version, the form
list and the manifest of media files.

The XForm is pyxform's conversion of the version's definition (`xlsform.to_xform`)
with two additions, so that what a phone sends back maps onto incity's version:
its `version` attribute is incity's version number, and a form that asks for
consent starts with the information sheet and a required "I agree" (see
CONSENT_NAME), which the submission carries back as the respondent's consent.
A published version never changes, so its XForm is made once and cached.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from incity import __version__
from incity.accounts.models import Project
from incity.surveys.definition import Element, FormDefinition, language_code
from incity.surveys.models import Form, FormMedia, FormStatus, FormVersion
from incity.surveys.openrosa.responses import MANIFEST_NS, XFORMS_LIST_NS, xml_document
from incity.surveys.xlsform import required_files, to_xform

# The questions added in front of a form that asks for consent: the information sheet (a
# note) and the respondent's agreement (an acknowledge question, which must be answered).
CONSENT_SHEET_NAME = "incity_consent_sheet"
CONSENT_NAME = "incity_consent"
_CACHE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class ServedForm:
    """An open form as a phone sees it: its current version's XForm and media files."""

    form: Form
    version: FormVersion
    xml: bytes
    media: tuple[FormMedia, ...]

    @property
    def md5(self) -> str:
        return hashlib.md5(self.xml, usedforsecurity=False).hexdigest()

    @property
    def title(self) -> str:
        return str(self.version.definition.get("title") or self.form.title)


def xform_definition(version: FormVersion) -> FormDefinition:
    """The version's definition as the XForm presents it (version number, consent first)."""
    definition: FormDefinition = copy.deepcopy(version.definition)
    definition["version_label"] = str(version.number)
    if version.consent_required:
        definition["children"] = [*_consent_elements(version), *definition["children"]]
    return definition


def _consent_elements(version: FormVersion) -> list[Element]:
    languages = list(version.definition["languages"])
    agree: dict[str, str] = {}
    for language in languages:
        with translation.override(language_code(language) or "en"):
            agree[language] = _("I have read the information above and agree to take part.")
    sheet: Element = {
        "type": "note",
        "name": CONSENT_SHEET_NAME,
        "label": {lang: version.consent_sheet.get(lang, "") for lang in languages},
    }
    consent: Element = {
        "type": "acknowledge",
        "name": CONSENT_NAME,
        "label": agree,
        "required": True,
    }
    return [sheet, consent]


def xform_bytes(version: FormVersion) -> bytes:
    """The XForm of a published version (cached: a version never changes)."""
    sheets = hashlib.sha256(repr(sorted(version.consent_sheet.items())).encode()).hexdigest()
    key = (
        f"incity:openrosa:xform:{__version__}:{version.pk}:{version.number}:"
        f"{version.content_hash}:{int(version.consent_required)}:{sheets[:16]}"
    )
    cached = cache.get(key)
    if isinstance(cached, bytes):
        return cached
    xml = to_xform(xform_definition(version)).encode("utf-8")
    cache.set(key, xml, _CACHE_SECONDS)
    return xml


def open_forms(project: Project, form_id: str | None = None) -> QuerySet[Form]:
    forms = Form.objects.filter(project=project, status=FormStatus.OPEN).order_by("title", "pk")
    return forms.filter(form_id=form_id) if form_id is not None else forms


def served_forms(forms: QuerySet[Form]) -> list[ServedForm]:
    """Each form with its latest version and media, in three queries for any number of forms."""
    found = list(forms)
    latest: dict[int, FormVersion] = {}
    for version in FormVersion.objects.filter(form__in=found).order_by("form_id", "-number"):
        latest.setdefault(version.form_id, version)
    media: dict[int, list[FormMedia]] = {}
    for item in FormMedia.objects.filter(form__in=found).order_by("filename"):
        media.setdefault(item.form_id, []).append(item)
    served = []
    for form in found:
        if form.pk not in latest:
            continue
        version = latest[form.pk]
        named = set(required_files(version.definition))
        files = tuple(item for item in media.get(form.pk, []) if item.filename in named)
        served.append(ServedForm(form, version, xform_bytes(version), files))
    return served


def _url(request: HttpRequest, name: str, **kwargs: str) -> str:
    return request.build_absolute_uri(reverse(f"openrosa:{name}", kwargs=kwargs))


def form_list_document(request: HttpRequest, project: Project, forms: list[ServedForm]) -> bytes:
    """The OpenRosa form list (namespace xformsList) of the given forms."""
    root = ET.Element("xforms", xmlns=XFORMS_LIST_NS)
    for served in forms:
        keys = {"slug": project.slug, "form_id": served.form.form_id}
        xform = ET.SubElement(root, "xform")
        ET.SubElement(xform, "formID").text = served.form.form_id
        ET.SubElement(xform, "name").text = served.title
        ET.SubElement(xform, "version").text = str(served.version.number)
        ET.SubElement(xform, "hash").text = f"md5:{served.md5}"
        ET.SubElement(xform, "downloadUrl").text = _url(request, "form_xml", **keys)
        if served.media:
            ET.SubElement(xform, "manifestUrl").text = _url(request, "manifest", **keys)
    return xml_document(root)


def manifest_document(request: HttpRequest, project: Project, served: ServedForm) -> bytes:
    """The OpenRosa manifest (namespace xformsManifest) of a form's media files."""
    root = ET.Element("manifest", xmlns=MANIFEST_NS)
    for item in served.media:
        media_file = ET.SubElement(root, "mediaFile")
        ET.SubElement(media_file, "filename").text = item.filename
        ET.SubElement(media_file, "hash").text = f"md5:{item.md5}"
        ET.SubElement(media_file, "downloadUrl").text = _url(
            request, "media", slug=project.slug, form_id=served.form.form_id, filename=item.filename
        )
    return xml_document(root)
