"""Bulk inserts for batch submissions: COPY on PostgreSQL, `bulk_create` elsewhere.

A batch of 1,000 submissions is one INSERT with some 20,000 parameters through
`bulk_create`; on PostgreSQL psycopg spends most of that request building and
splitting the statement. COPY streams the rows instead. Its rows carry their
primary keys, taken from the table's sequence first, so callers get saved
instances exactly as `bulk_create` would give them (measured in
bench/surveys_bench.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

# Below this many rows the statement is small and `bulk_create` is as fast.
COPY_MIN_ROWS = 20


def bulk_insert(objects: Sequence[M]) -> None:
    """Insert new, unsaved instances of one model, setting their primary keys."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql" or len(objects) < COPY_MIN_ROWS:
        model._default_manager.bulk_create(objects)
        return
    _copy(model, objects)


def _take_ids(table: str, column: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How a field's Python value goes into COPY.

    psycopg adapts numbers, text, bytes and aware datetimes itself; only JSON needs
    Django's adaptation. Skipping `get_db_prep_save` for the rest halves the cost of
    preparing a batch (it re-checks time zones and relations for every value).
    """
    if isinstance(field, models.JSONField):
        return partial(field.get_db_prep_save, connection=connection)
    return _unchanged


def _unchanged(value: Any) -> Any:
    return value


def _copy(model: type[M], objects: Sequence[M]) -> None:
    meta = model._meta
    pk_column = meta.pk.column if meta.pk is not None else "id"
    for instance, pk in zip(
        objects, _take_ids(meta.db_table, pk_column, len(objects)), strict=True
    ):
        instance.pk = pk
    fields = list(meta.concrete_fields)
    adapters = [_adapter(field) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for instance in objects:
            copy.write_row(
                [
                    adapt(field.pre_save(instance, add=True))
                    for field, adapt in zip(fields, adapters, strict=True)
                ]
            )
    for instance in objects:
        instance._state.adding = False
        instance._state.db = connection.alias
