"""The column store: a derived, rebuildable copy of each flat form's submissions as
Parquet segments, from which CSV and Parquet exports are written (see files.py for the
files, sync.py for freshness, export.py for the exports, schedule.py for keeping it
current in the background)."""

from __future__ import annotations

from incity.exports.store.schedule import schedule_sync
from incity.exports.store.sync import SyncReport, purge_forms, sync

__all__ = ["SyncReport", "purge_forms", "schedule_sync", "sync"]
