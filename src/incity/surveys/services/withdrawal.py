"""Withdrawal: a respondent's code removes every answer held under it.

What is left is a tombstone (a hash of the code, a count, when) and the
withdrawn instance ids, so that a device sending the same answers again is
acknowledged without storing them. Derived stores are purged once committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.errors import InvalidInput, NotFound
from incity.surveys import consent, derived
from incity.surveys.models import (
    Respondent,
    Submission,
    Tombstone,
    WithdrawnInstance,
)
from incity.surveys.services import data_state


@dataclass(frozen=True)
class WithdrawalResult:
    tombstone: Tombstone
    already: bool


@transaction.atomic
def withdraw(*, origin: Origin, code: str, acting_user: User | None = None) -> WithdrawalResult:
    """Remove every answer held under a withdrawal code, leaving an audited tombstone.

    Anyone holding the code may do this (it is the respondent's own key); the code
    can delete but never read.
    """
    normalised = consent.normalise_code(code or "")
    if not consent.is_well_formed(normalised):
        raise InvalidInput(
            "code",
            f"A withdrawal code has {consent.CODE_LENGTH} letters and digits, "
            "like ABCD-EFGH-JK; check the code and try again.",
        )
    hashed = consent.code_hash(normalised)
    respondent = (
        Respondent.objects.select_for_update()
        .select_related("project")
        .filter(withdrawal_code=normalised)
        .first()
    )
    if respondent is None:
        tombstone = Tombstone.objects.filter(code_hash=hashed).first()
        if tombstone is not None:
            return WithdrawalResult(tombstone, already=True)
        raise NotFound("No answers are held under this code; check it and try again.")
    submissions = list(respondent.submissions.values_list("pk", "form_id", "instance_id"))
    tombstone = Tombstone.objects.create(
        project=respondent.project,
        code_hash=hashed,
        submissions_removed=len(submissions),
        channel=origin.channel,
    )
    WithdrawnInstance.objects.bulk_create(
        WithdrawnInstance(tombstone=tombstone, form_id=form_id, instance_id=instance_id)
        for _, form_id, instance_id in submissions
    )
    # Typed answers and revisions go with their submissions (on_delete=CASCADE).
    Submission.objects.filter(respondent=respondent).delete()
    respondent.delete()
    forms = {form_id for _, form_id, _ in submissions}
    data_state.bump(forms)
    # Files and caches derived from those answers go once the deletion is committed.
    transaction.on_commit(lambda: derived.purge(forms))
    record(
        actor=acting_user,
        origin=origin,
        kind=AuditKind.WRITE,
        action="consent.withdraw",
        project=tombstone.project,
        target=tombstone,
        detail={"submissions_removed": len(submissions)},
    )
    return WithdrawalResult(tombstone, already=False)
