"""The files beside a submission's XML: checked before anything is stored.

ODK Collect names each part after its file ("1712345.jpg"). A file is taken
only if an answer of the submission names it, it is not empty, it fits the
size limit and its name is a plain file name (no folders, no '..').
"""

from __future__ import annotations

import re

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

from incity.surveys.openrosa.responses import OpenRosaError
from incity.surveys.services.attachments import AttachmentInput

XML_PART = "xml_submission_file"
# Fields phones send beside the files (a split submission marks all but its last part).
_KNOWN_FIELDS = frozenset({XML_PART, "*isIncomplete*"})
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_MAX_NAME = 255


def xml_part(files: MultiValueDict[str, UploadedFile], fields: MultiValueDict[str, str]) -> bytes:
    """The submission XML: exactly one part named xml_submission_file (a file or a field)."""
    uploads = files.getlist(XML_PART)
    values = fields.getlist(XML_PART)
    if len(uploads) + len(values) > 1:
        raise OpenRosaError(400, f"The submission has more than one {XML_PART} part.")
    if uploads:
        return b"".join(uploads[0].chunks())
    if values:
        return values[0].encode("utf-8")
    raise OpenRosaError(
        400,
        f"The submission has no {XML_PART} part; send the form's XML in a multipart part "
        f"named {XML_PART}.",
    )


def attachment_inputs(
    files: MultiValueDict[str, UploadedFile], named: set[str], max_bytes: int
) -> list[AttachmentInput]:
    """Every file part but the XML, checked; raises OpenRosaError (400 or 413)."""
    found: dict[str, AttachmentInput] = {}
    for field_name, uploads in files.lists():
        if field_name == XML_PART:
            continue
        for upload in uploads:
            name = _checked_name(field_name, upload)
            if name in found:
                raise OpenRosaError(400, f"The file '{name}' is sent twice.")
            if name not in named:
                raise OpenRosaError(
                    400,
                    f"The file '{name}' is not named by any answer of the submission; "
                    "nothing was stored.",
                )
            if not upload.size:
                raise OpenRosaError(400, f"The file '{name}' is empty; nothing was stored.")
            if upload.size > max_bytes:
                raise OpenRosaError(
                    413,
                    f"The file '{name}' is larger than this server's limit of "
                    f"{max_bytes // (1024 * 1024)} MB.",
                )
            found[name] = AttachmentInput(
                filename=name, content=upload, content_type=upload.content_type or ""
            )
    return list(found.values())


def unexpected_fields(fields: MultiValueDict[str, str]) -> list[str]:
    return sorted(name for name in fields if name not in _KNOWN_FIELDS)


def _checked_name(field_name: str, upload: UploadedFile) -> str:
    # Django keeps only the last part of a file name; the part's own name is as sent, so a
    # folder or '..' in it is refused rather than quietly cut off.
    for candidate in (field_name, upload.name or ""):
        if _UNSAFE_NAME.search(candidate) or candidate in (".", "..") or candidate.startswith(".."):
            raise OpenRosaError(
                400,
                f"The file name '{candidate[:80]}' is not allowed: a file name has no folders "
                "('/' or '\\'), no control characters and is not '..'.",
            )
    name = upload.name or field_name
    if not name or len(name) > _MAX_NAME:
        raise OpenRosaError(400, f"A file name must be 1 to {_MAX_NAME} characters long.")
    return name
