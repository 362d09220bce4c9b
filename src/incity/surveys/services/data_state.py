"""The one home of the per-form data counter (models.FormDataState).

Every service that changes a form's submissions calls `bump` inside its
transaction, as its last write: on PostgreSQL the counter's row stays locked
only from there to the commit. A reader that saw the old value may build a
derived store from data that already includes the change; it is then rebuilt
once, at the next read, which is the only cost of that race. Listeners
registered with `derived.register_listener` hear of each bump (the export column
store queues its background sync from there).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F

from incity.surveys import derived
from incity.surveys.models import FormDataState


def bump(form_ids: Iterable[int]) -> None:
    """Move the counter of every form in `form_ids` on by one."""
    ids = sorted(set(form_ids))
    for form_id in ids:
        if FormDataState.objects.filter(form_id=form_id).update(version=F("version") + 1):
            continue
        # The form's first change: make its row (a concurrent first change may make it
        # first; get_or_create then reads that one), then move it on as above.
        FormDataState.objects.get_or_create(form_id=form_id)
        FormDataState.objects.filter(form_id=form_id).update(version=F("version") + 1)
    for form_id in ids:
        derived.changed(form_id)
