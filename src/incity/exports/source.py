"""The submissions an export reads, in bounded chunks, and the rows made from them.

Submissions are read by keyset paging on the primary key (never OFFSET, never
all at once): each step fetches at most `chunk_size` rows after the last id
seen. The answers arrive as JSON text and are decoded with msgspec, which is
several times faster than the standard library on wide forms; sensitive
answers are decrypted and merged only when the export may include them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from django.db.models import TextField
from django.db.models.functions import Cast

from incity.exports.layout import CellMode, Getter, Layout, Table, cell_getter, entries
from incity.surveys.crypto import decrypt_json
from incity.surveys.models import Form, Submission
from incity.surveys.validation import merge_sensitive

_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class SourceRow:
    """One submission as an export needs it."""

    pk: int
    meta: list[Any]
    answers: dict[str, Any]


def submissions(form: Form, since: datetime | None):  # type: ignore[no-untyped-def]
    rows = Submission.objects.filter(form=form)
    if since is not None:
        rows = rows.filter(received_at__gte=since)
    return rows


def count(form: Form, since: datetime | None) -> int:
    return int(submissions(form, since).count())


def chunks(
    form: Form, since: datetime | None, *, include_sensitive: bool, chunk_size: int
) -> Iterator[list[SourceRow]]:
    """The form's submissions in id order, `chunk_size` at a time."""
    for page in raw_chunks(form, since, chunk_size=chunk_size):
        yield [_row(values, include_sensitive) for values in page]


def raw_chunks(
    form: Form,
    since: datetime | None,
    *,
    chunk_size: int,
    first_id: int = 0,
    stop_id: int | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """The same pages as plain tuples: the metadata, the answers as JSON text (index 8)
    and the encrypted sensitive answers (index 9); only ids from `first_id` up to (not
    including) `stop_id` when given (the rows of one segment of the column store)."""
    rows = submissions(form, since)
    if stop_id is not None:
        rows = rows.filter(pk__lt=stop_id)
    query = (
        rows.annotate(raw_answers=Cast("answers", output_field=TextField()))
        .order_by("pk")
        .values_list(
            "pk",
            "instance_id",
            "version__number",
            "received_at",
            "status",
            "collected_by__username",
            "language",
            "is_synthetic",
            "raw_answers",
            "sensitive",
        )
    )
    last = first_id - 1
    while True:
        page = list(query.filter(pk__gt=last)[:chunk_size])
        if not page:
            return
        last = page[-1][0]
        yield page
        if len(page) < chunk_size:
            return


def to_source_row(values: tuple[Any, ...]) -> SourceRow:
    """A raw page row as the row path's SourceRow, sensitive answers left out."""
    return _row(values, False)


def _row(values: tuple[Any, ...], include_sensitive: bool) -> SourceRow:
    pk, instance_id, version, received, status, collector, language, synthetic, raw, secret = values
    answers = _decode(raw) if isinstance(raw, str | bytes) else dict(raw or {})
    if include_sensitive and secret:
        answers = merge_sensitive(answers, decrypt_json(secret))
    meta = [
        pk,
        instance_id,
        version,
        received.isoformat() if received is not None else None,
        status,
        collector or "",
        language,
        bool(synthetic),
    ]
    return SourceRow(pk=pk, meta=meta, answers=answers)


class RowMaker:
    """Turns source rows into the cells of each table of a layout."""

    def __init__(self, layout: Layout, mode: CellMode) -> None:
        self.layout = layout
        main = layout.main
        self.meta_width = sum(1 for column in main.columns if not column.question)
        self.main_getters: list[Getter] = [
            cell_getter(column, mode) for column in main.columns[self.meta_width :]
        ]
        self.linked: list[tuple[Table, int, list[Getter]]] = []
        for table in layout.linked:
            links = sum(1 for column in table.columns if not column.question)
            getters = [cell_getter(column, mode) for column in table.columns[links:]]
            self.linked.append((table, links, getters))

    def main_row(self, row: SourceRow) -> list[Any]:
        answers = row.answers
        return [*row.meta, *(getter(answers) for getter in self.main_getters)]

    def linked_rows(self, row: SourceRow) -> Iterator[tuple[int, list[Any]]]:
        """(index of the linked table, row) for every repeat entry and map mark."""
        for index, (table, links, getters) in enumerate(self.linked):
            for positions, entry in entries(row.answers, table.path):
                keys: list[Any] = [row.pk, positions[-1]]
                if links == 3:
                    keys.append(positions[-2])
                yield index, [*keys, *(getter(entry) for getter in getters)]
