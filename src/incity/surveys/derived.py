"""Stores derived from submissions, and how they forget a withdrawn respondent.

The raw submission is the record of truth; other apps keep rebuildable copies
of parts of it on disk or in memory (the analysis snapshot, the export column
store, map layer caches). Each registers a purger here from its AppConfig.ready(),
and `purge` calls them all once a withdrawal has been committed, so that a
withdrawn person's answers leave every derived store at once, not at its next
rebuild. `queries.data_version` is the cheap freshness key they compare against.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

Purger = Callable[[set[int]], None]
Listener = Callable[[int], None]
_purgers: list[Purger] = []
_listeners: list[Listener] = []
log = logging.getLogger(__name__)


def register_purger(purger: Purger) -> None:
    """`purger(form_ids)` deletes whatever its store derived from those forms."""
    if purger not in _purgers:
        _purgers.append(purger)


def purge(form_ids: Iterable[int]) -> None:
    """Run every purger; one failing does not stop the others (each is logged)."""
    ids = set(form_ids)
    if not ids:
        return
    for purger in list(_purgers):
        try:
            purger(ids)
        except Exception:  # a failed purge must not hide the others
            log.exception("derived store purge failed: %s", getattr(purger, "__qualname__", purger))


def register_listener(listener: Listener) -> None:
    """`listener(form_id)` hears of every change to a form's submissions.

    It is called inside the writing transaction (from `services.data_state.bump`), so
    it must be cheap and must not fail; work that needs the change committed registers
    `transaction.on_commit` itself (the export column store queues its sync that way).
    """
    if listener not in _listeners:
        _listeners.append(listener)


def changed(form_id: int) -> None:
    for listener in list(_listeners):
        try:
            listener(form_id)
        except Exception:  # a derived store's bookkeeping never fails a write
            log.exception("derived store listener failed for form %s", form_id)
