"""Attachments: the files a submission's answers name (photos, recordings), as sent
by OpenRosa clients, stored beside the submission with their digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import File
from django.db import transaction

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.errors import Forbidden, InvalidInput
from incity.surveys.definition import FormDefinition
from incity.surveys.models import (
    Submission,
    SubmissionAttachment,
)
from incity.surveys.queries import current_answers

# Question types whose answer is the name of a file the device sends beside the answers.
ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file", "audit", "background-audio"})


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    # A Django File (an upload): read in chunks, never whole into memory.
    content: Any
    content_type: str = ""


def attachment_names(definition: FormDefinition, answers: dict[str, Any]) -> set[str]:
    """The file names the answers give for photo, audio, video, file and audit questions."""
    names: set[str] = set()
    _collect_attachment_names(definition["children"], answers, names)
    return names


def _collect_attachment_names(
    elements: Sequence[Any], answers: dict[str, Any], names: set[str]
) -> None:
    for element in elements:
        kind, name = element["type"], element["name"]
        if kind == "group":
            _collect_attachment_names(element.get("children", []), answers, names)
        elif kind == "repeat":
            entries = answers.get(name)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    _collect_attachment_names(element.get("children", []), entry, names)
        elif kind in ATTACHMENT_TYPES and isinstance(answers.get(name), str) and answers[name]:
            names.add(answers[name])


def attach_files(
    *,
    acting_user: User | None,
    origin: Origin,
    submission: Submission,
    files: Sequence[AttachmentInput],
    max_bytes: int,
) -> list[SubmissionAttachment]:
    """Store the files a stored submission's answers name; a name already attached is skipped.

    Only whoever collected the submission may add its files (a phone that split a large
    submission over several requests sends the rest later). Refuses, storing nothing, a file
    the answers do not name, an empty one or one over `max_bytes`. Returns the new rows.
    """
    if not files:
        return []
    if acting_user is not None and submission.collected_by_id != acting_user.pk:
        raise Forbidden("Only whoever collected a submission may add its files.")
    named = attachment_names(submission.version.definition, current_answers(submission))
    for item in files:
        if item.filename not in named:
            raise InvalidInput(
                "attachments",
                f"The file '{item.filename}' is not named by any answer of the submission.",
            )
        if item.content.size == 0:
            raise InvalidInput("attachments", f"The file '{item.filename}' is empty.")
        if item.content.size > max_bytes:
            raise InvalidInput(
                "attachments",
                f"The file '{item.filename}' is larger than {max_bytes // (1024 * 1024)} MB.",
            )
    present = set(submission.attachments.values_list("filename", flat=True))
    stored: list[SubmissionAttachment] = []
    try:
        with transaction.atomic():
            for item in files:
                if item.filename in present:
                    continue
                digest = hashlib.md5(usedforsecurity=False)
                for chunk in item.content.chunks():
                    digest.update(chunk)
                item.content.seek(0)
                attachment = SubmissionAttachment(
                    submission=submission,
                    filename=item.filename,
                    content_type=item.content_type[:100],
                    size=item.content.size,
                    md5=digest.hexdigest(),
                )
                attachment.file.save(item.filename, File(item.content), save=False)
                stored.append(attachment)
                attachment.save()
                present.add(item.filename)
            if stored:
                record(
                    actor=acting_user,
                    origin=origin,
                    kind=AuditKind.WRITE,
                    action="submission.attach_files",
                    project=submission.project,
                    target=submission,
                    detail={
                        "files": [a.filename for a in stored],
                        "bytes": sum(a.size for a in stored),
                    },
                )
    except BaseException:
        # The rows rolled back; the files written so far must not stay behind.
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return stored
