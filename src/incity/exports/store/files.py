"""Where a form's column store lives, its manifest, and the lock that orders its writers.

`DATA_DIR/columns/form-<id>/` holds one Parquet file per segment (`seg-<n>.parquet`,
the submissions with id // SEGMENT_SIZE == n) and `manifest.json`. Every file is
written beside its final name and moved over it (os.replace), so a reader sees the
old file or the new one, never half of one. Writers (sync, purge) hold the form's
lock exclusively and readers (exports) hold it shared; the lock file sits beside the
folder so that a purge may delete the folder while holding it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

# Submissions with id // SEGMENT_SIZE == n make segment n (tests make it small).
SEGMENT_SIZE = 65_536
# Bumped whenever the files' layout changes, so that older stores are rebuilt.
STORE_FORMAT = 2


def segment_size() -> int:
    return SEGMENT_SIZE


def root() -> Path:
    return Path(settings.DATA_DIR) / "columns"


def form_dir(form_id: int) -> Path:
    return root() / f"form-{form_id}"


def segment_path(form_id: int, segment: int) -> Path:
    return form_dir(form_id) / f"seg-{segment:05d}.parquet"


@contextlib.contextmanager
def locked(form_id: int, *, shared: bool = False) -> Iterator[None]:
    root().mkdir(parents=True, exist_ok=True)
    with (root() / f"form-{form_id}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class SegmentEntry:
    fingerprint: str
    # "fit": its rows are in the segment file; "unfit": its answers do not fit the
    # schema, so exports read its rows from the database by the row path.
    state: str
    rows: int


@dataclass
class Manifest:
    form: int
    # The form's creation time: a database recreated with the same form ids (a reset
    # demo, a rolled-back test) must not find this store current.
    form_created: str
    schema: str
    data_version: int
    segments: dict[int, SegmentEntry] = field(default_factory=dict)
    format: int = STORE_FORMAT
    segment_size: int = SEGMENT_SIZE

    def matches(self, form_created: str, schema: str) -> bool:
        return (
            self.format == STORE_FORMAT
            and self.segment_size == segment_size()
            and self.form_created == form_created
            and self.schema == schema
        )


def read_manifest(form_id: int) -> Manifest | None:
    """The form's manifest, or None when there is none (or it cannot be read: rebuilt)."""
    path = form_dir(form_id) / "manifest.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        segments = {int(key): SegmentEntry(**value) for key, value in data.pop("segments").items()}
        return Manifest(**data, segments=segments)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def write_manifest(manifest: Manifest) -> None:
    folder = form_dir(manifest.form)
    folder.mkdir(parents=True, exist_ok=True)
    data = asdict(manifest)
    data["segments"] = {str(key): value for key, value in data["segments"].items()}
    part = folder / "manifest.json.part"
    part.write_text(json.dumps(data, sort_keys=True))
    os.replace(part, folder / "manifest.json")


def remove_form(form_id: int) -> None:
    """Delete a form's store (under its lock, so no export reads it half deleted)."""
    with locked(form_id):
        shutil.rmtree(form_dir(form_id), ignore_errors=True)
