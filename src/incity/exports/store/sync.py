"""`sync(form)`: bring a form's column store up to date, rebuilding only what changed.

The store is current when its recorded data version equals the form's
(`surveys.queries.data_version`, moved on by every write to the submissions): then
nothing else is read. Otherwise one GROUP BY gives each segment's fingerprint and only
the segments whose fingerprint changed are rebuilt; segments with no rows left are
deleted. A change of the form's published versions or of the project's sensitive
questions changes the schema key, and the whole store is rebuilt.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import pyarrow as pa

from incity.exports.columnar import AnswerDecoder, answers_schema, flat
from incity.exports.layout import Layout, build_layout
from incity.exports.store import build
from incity.exports.store.files import (
    Manifest,
    SegmentEntry,
    form_dir,
    locked,
    read_manifest,
    remove_form,
    segment_path,
    segment_size,
    write_manifest,
)
from incity.surveys.models import Form
from incity.surveys.queries import data_version, project_sensitive_names


@dataclass
class SyncReport:
    form: int
    # "current": nothing to do; "synced": segments were checked (and maybe rebuilt);
    # "not stored": the form has repeats, map marks or geometry (its exports take the
    # row path) or was never published.
    state: str
    built: list[int] = field(default_factory=list)
    unfit: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    rows_built: int = 0
    seconds: float = 0.0


def store_layout(form: Form) -> Layout | None:
    """The layout the store holds (the main table without sensitive answers), or None
    when the form's exports cannot use a store."""
    definitions = list(form.versions.order_by("-number").values_list("definition", flat=True))
    if not definitions:
        return None
    layout = build_layout(
        definitions,
        language=definitions[0].get("default_language") or "",
        extra_sensitive=project_sensitive_names(form.project),
        include_sensitive=False,
        table_name=form.form_id,
    )
    return layout if flat(layout, False) else None


def schema_key(schema: pa.Schema) -> str:
    text = "|".join(f"{field.name}:{field.type}" for field in schema)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def sync(form: Form) -> SyncReport:
    """Build what is stale in the form's store; safe to call at any time, from anywhere."""
    start = time.perf_counter()
    layout = store_layout(form)
    if layout is None:
        if form_dir(form.pk).exists():
            remove_form(form.pk)
        return SyncReport(form.pk, "not stored")
    schema = answers_schema(layout)
    key = schema_key(schema)
    created = form.created_at.isoformat()
    with locked(form.pk):
        version = data_version(form)
        manifest = read_manifest(form.pk)
        if manifest is not None and manifest.matches(created, key):
            if manifest.data_version == version and not _lost_files(manifest):
                return SyncReport(form.pk, "current", seconds=time.perf_counter() - start)
        else:
            manifest = _fresh(form.pk, created, key)
        report = _rebuild_stale(form.pk, manifest, AnswerDecoder(schema))
        manifest.data_version = version
        write_manifest(manifest)
    report.seconds = time.perf_counter() - start
    return report


def _lost_files(manifest: Manifest) -> bool:
    """Forget the fit segments whose file is gone (deleted by hand, a restored backup):
    they are rebuilt like stale ones. True if there were any."""
    lost = [
        segment
        for segment, entry in manifest.segments.items()
        if entry.state == "fit" and not segment_path(manifest.form, segment).is_file()
    ]
    for segment in lost:
        del manifest.segments[segment]
    return bool(lost)


def _fresh(form_id: int, created: str, key: str) -> Manifest:
    """An empty manifest, the old store's files gone (another schema, or another form)."""
    folder = form_dir(form_id)
    for path in folder.glob("seg-*.parquet*") if folder.exists() else []:
        path.unlink(missing_ok=True)
    return Manifest(
        form=form_id,
        form_created=created,
        schema=key,
        data_version=-1,
        segment_size=segment_size(),
    )


def _rebuild_stale(form_id: int, manifest: Manifest, decoder: AnswerDecoder) -> SyncReport:
    report = SyncReport(form_id, "synced")
    current = build.fingerprints(form_id)
    # Not current until every segment is: a crash part-way leaves a store that the
    # next sync checks again, keeping the segments already rebuilt.
    manifest.data_version = -1
    form_dir(form_id).mkdir(parents=True, exist_ok=True)
    for segment in sorted(set(manifest.segments) - set(current)):
        segment_path(form_id, segment).unlink(missing_ok=True)
        del manifest.segments[segment]
        report.removed.append(segment)
    for segment, fingerprint in sorted(current.items()):
        known = manifest.segments.get(segment)
        if known is not None and known.fingerprint == fingerprint:
            continue
        rows = build.build_segment(form_id, segment, decoder, segment_path(form_id, segment))
        state = "fit" if rows is not None else "unfit"
        manifest.segments[segment] = SegmentEntry(fingerprint, state, rows or 0)
        write_manifest(manifest)
        report.built.append(segment)
        report.rows_built += rows or 0
        if rows is None:
            report.unfit.append(segment)
    return report


def purge_forms(form_ids: set[int]) -> None:
    """The purger registered with surveys.derived: a withdrawal deletes the stores of
    the forms it touched (rebuilt, without the withdrawn answers, at the next sync)."""
    for form_id in sorted(form_ids):
        remove_form(form_id)


__all__ = ["SyncReport", "purge_forms", "schema_key", "store_layout", "sync"]
