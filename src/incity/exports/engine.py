"""Checks an export's options, plans its tables and streams the rows into a writer.

Everything that both the command line (a file written now) and the background
job (a file written by the worker) need lives here; neither writes audit rows
here, the services do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings

from incity.errors import Conflict, InvalidInput
from incity.exports import columnar, source
from incity.exports.layout import CellMode, Layout, build_layout
from incity.exports.models import ExportFormat, LabelMode
from incity.exports.store import export as store_export
from incity.exports.writers import ONE_TABLE_FORMATS, WriterOptions, open_writer
from incity.exports.writers.base import XLSX_MAX_ROWS
from incity.surveys.definition import FormDefinition
from incity.surveys.models import Form
from incity.surveys.queries import project_sensitive_names

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExportOptions:
    format: str
    labels: str = LabelMode.CODES
    # None: the form's default language.
    language: str | None = None
    since: datetime | None = None
    include_sensitive: bool = False


@dataclass(frozen=True)
class Plan:
    form: Form
    options: ExportOptions
    language: str
    layout: Layout
    rows_total: int

    @property
    def zipped(self) -> bool:
        if self.options.format in ONE_TABLE_FORMATS and bool(self.layout.linked):
            return True
        return self.in_parts

    @property
    def in_parts(self) -> bool:
        """An SPSS or Stata table too long for one file is written in parts (writers/readstat)."""
        return (
            self.options.format in ("sav", "dta")
            and self.rows_total > settings.EXPORT_STATS_PART_ROWS
        )

    @property
    def extension(self) -> str:
        return "zip" if self.zipped else self.options.format

    def download_name(self) -> str:
        synthetic = "-synthetic" if self.form.is_synthetic else ""
        day = datetime.now(UTC).strftime("%Y%m%d")
        return f"{self.form.form_id}-{day}{synthetic}.{self.extension}"


def parse_since(text: str) -> datetime:
    """A date (YYYY-MM-DD) or an ISO date-time; a date means its start in UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "since", f"'{text}' is not a date; write it as YYYY-MM-DD, for example 2026-01-31."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def definitions_of(form: Form) -> list[FormDefinition]:
    """The published versions' definitions, newest first."""
    found: list[FormDefinition] = list(
        form.versions.order_by("-number").values_list("definition", flat=True)
    )
    if not found:
        raise Conflict(
            f"The form '{form.form_id}' has never been published, so it has no answers to export.",
            form=form.pk,
        )
    return found


def cell_mode(options: ExportOptions) -> CellMode:
    if options.labels == LabelMode.LABELS:
        return "labels"
    if options.format in (ExportFormat.SAV, ExportFormat.DTA):
        return "numbered"
    return "codes"


def plan_export(form: Form, options: ExportOptions) -> Plan:
    """Check the options against the form and lay out the tables; raises for bad input."""
    if options.format not in ExportFormat.values:
        raise InvalidInput(
            "format",
            f"'{options.format}' is not an export format; use one of "
            + ", ".join(ExportFormat.values)
            + ".",
        )
    if options.labels not in LabelMode.values:
        raise InvalidInput(
            "labels", f"--labels must be 'codes' or 'labels', not '{options.labels}'."
        )
    definitions = definitions_of(form)
    latest = definitions[0]
    language = options.language or latest.get("default_language") or ""
    known = latest.get("languages") or []
    if options.language is not None and options.language not in known:
        raise InvalidInput(
            "language",
            f"'{options.language}' is not one of the form's languages: {', '.join(known)}.",
        )
    layout = build_layout(
        definitions,
        language=language,
        extra_sensitive=project_sensitive_names(form.project),
        include_sensitive=options.include_sensitive,
        table_name=form.form_id,
    )
    if options.format == ExportFormat.GEOJSON and not _has_geometry(layout):
        raise InvalidInput(
            "format",
            f"The form '{form.form_id}' has no geopoint, geotrace, geoshape or map-marks "
            "question that may be exported, so there is nothing to put on a map; "
            "choose another format.",
        )
    total = source.count(form, options.since)
    if options.format == ExportFormat.XLSX and total > XLSX_MAX_ROWS - 1:
        raise InvalidInput(
            "format",
            f"{total:,} submissions do not fit in one Excel sheet ({XLSX_MAX_ROWS - 1:,} rows "
            "at most); export as CSV or Parquet, or a part of them with --since.",
        )
    return Plan(form=form, options=options, language=language, layout=layout, rows_total=total)


def _has_geometry(layout: Layout) -> bool:
    if any(not column.sensitive for column in layout.geometry_questions()):
        return True
    return any(table.marks and len(table.path) == 1 for table in layout.linked)


def check_output_path(path: Path, *, force: bool, plan: Plan) -> None:
    """Refuse a path the export cannot or should not write, before reading any data."""
    if path.is_dir():
        raise InvalidInput("out", f"{path} is a folder; give a file name.")
    if not path.parent.is_dir():
        raise InvalidInput("out", f"The folder {path.parent} does not exist.")
    if not os.access(path.parent, os.W_OK):
        raise InvalidInput("out", f"The folder {path.parent} cannot be written to.")
    if path.exists() and not force:
        raise InvalidInput("out", f"{path} already exists; add --force to replace it.")
    if plan.zipped and path.suffix.lower() != ".zip":
        why = (
            f"{plan.rows_total:,} submissions are more than one {plan.options.format} file "
            f"holds ({settings.EXPORT_STATS_PART_ROWS:,}), so the export is a zip of parts"
            if plan.in_parts and not plan.layout.linked
            else f"the form has repeats, so a {plan.options.format} export is a zip of linked "
            "tables (one per repeat, keyed by submission_id)"
        )
        raise InvalidInput("out", f"{why[0].upper()}{why[1:]}; give --out a name ending in .zip.")


def write(plan: Plan, path: Path, progress: Progress | None = None) -> int:
    """Stream the plan's rows into `path` (through a temporary file renamed at the end,
    so a failed export leaves nothing behind). Returns the number of submissions written."""
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=".incity-export-", suffix=".part", dir=path.parent
    )
    os.close(descriptor)
    temporary = Path(temporary_name)
    options = WriterOptions(mode=cell_mode(plan.options), title=plan.form.title)
    if columnar.supported(
        plan.layout, plan.options.format, options.mode, plan.options.include_sensitive
    ):
        return _write_columnar(plan, options, temporary, path, progress)
    return _write_rows(plan, options, temporary, path, progress)


def _write_rows(
    plan: Plan, options: WriterOptions, temporary: Path, path: Path, progress: Progress | None
) -> int:
    maker = source.RowMaker(plan.layout, options.mode)
    writer = open_writer(plan.options.format, temporary, plan.layout, options)
    done = 0
    try:
        for chunk in source.chunks(
            plan.form,
            plan.options.since,
            include_sensitive=plan.options.include_sensitive,
            chunk_size=settings.EXPORT_CHUNK_SIZE,
        ):
            main = [maker.main_row(row) for row in chunk]
            linked: list[list[list[object]]] = [[] for _ in plan.layout.linked]
            for row in chunk:
                for index, cells in maker.linked_rows(row):
                    linked[index].append(cells)
            writer.write_chunk(main, linked)
            done += len(chunk)
            if progress is not None:
                progress(done)
        writer.close()
        os.replace(temporary, path)
    except BaseException:
        writer.discard()
        temporary.unlink(missing_ok=True)
        raise
    return done


def _write_columnar(
    plan: Plan, options: WriterOptions, temporary: Path, path: Path, progress: Progress | None
) -> int:
    """From the form's column store (exports/store/): the same values, whole columns at a
    time; the row path when the store does not hold this layout."""
    try:
        done = store_export.write(
            plan.form,
            plan.layout,
            options.mode,
            plan.options.format,
            plan.options.since,
            str(temporary),
            progress,
        )
        if done is None:
            temporary.unlink(missing_ok=True)
            return _write_rows(plan, options, temporary, path, progress)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return done
