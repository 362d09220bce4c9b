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
_purgers: list[Purger] = []
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
