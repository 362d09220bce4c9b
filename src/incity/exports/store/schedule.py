"""Keeping the store current without waiting for an export: `schedule_sync(form_id)`.

The submission services call it after every write to a form's submissions. It is
cheap (one cache `add` once the transaction commits, nothing before) and never fails
the write. A burst of writes gives one sync: the first write of a window of
DEBOUNCE_SECONDS queues a task to run at the end of the window (on a backend that can
defer; the immediate backend runs it at once), and the writes within the window find
the window's key already taken. A sync that runs after writes it did not see costs
nothing more than the next export's own sync, which finds what is stale.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 10


def _key(form_id: int) -> str:
    return f"exports:store-sync:{form_id}"


def schedule_sync(form_id: int) -> None:
    """Queue a sync of the form's column store once the current transaction commits."""
    transaction.on_commit(lambda: _enqueue(form_id))


def _enqueue(form_id: int) -> None:
    try:
        if not cache.add(_key(form_id), 1, timeout=DEBOUNCE_SECONDS):
            return
        from incity.exports.tasks import sync_store

        task = sync_store
        if task.get_backend().supports_defer:
            task = task.using(run_after=timezone.now() + timedelta(seconds=DEBOUNCE_SECONDS))
        task.enqueue(form_id)
    except Exception:  # the submission is saved; a missed sync is made up at the next export
        log.exception("could not queue a column store sync of form %s", form_id)


def run_sync(form_id: int) -> None:
    """The task's body: sync the form's store, or delete it if the form is gone."""
    from incity.exports.store.files import remove_form
    from incity.exports.store.sync import sync
    from incity.surveys.models import Form

    form = Form.objects.select_related("project").filter(pk=form_id).first()
    if form is None:
        remove_form(form_id)
        return
    report = sync(form)
    log.info(
        "column store of form %s: %s, %s segments built (%s unfit), %s removed, %.1f s",
        form_id,
        report.state,
        len(report.built),
        len(report.unfit),
        len(report.removed),
        report.seconds,
    )
