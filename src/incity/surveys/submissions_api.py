"""API for submissions: one or a batch, the list, review, edits, revisions and withdrawal.

The request bodies here are plain pydantic models (a batch of 1,000 validated by
ninja's per-object schema cost a tenth of the request), decoded by msgspec
(incity/api.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from incity.api_context import api_origin, signed_in_user
from incity.surveys import queries
from incity.surveys.models import Submission, SubmissionRevision
from incity.surveys.services import review as review_services
from incity.surveys.services import submissions as submission_services
from incity.surveys.services import withdrawal as withdrawal_services
from incity.surveys.services.submissions import SubmissionInput, SubmitResult

router = Router(tags=["submissions"])


# --- submissions ---------------------------------------------------------------------


# Submissions arrive a thousand at a time: plain pydantic models, because ninja's Schema
# adds a per-object validator (for reading ORM objects) that cost a tenth of a batch.
class ConsentAnswer(BaseModel):
    accepted: bool


class SubmissionIn(BaseModel):
    instance_id: str = Field(..., description="The client's id for this answer set, e.g. 'uuid:…'")
    answers: dict[str, Any]
    language: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    device_id: str = ""
    version: int | None = Field(None, description="The form version answered; the latest if absent")
    consent: ConsentAnswer | None = None
    respondent: str = Field(
        "", description="A respondent's withdrawal code, to link a later answer"
    )

    def to_input(self) -> SubmissionInput:
        return SubmissionInput(
            instance_id=self.instance_id,
            answers=self.answers,
            language=self.language,
            started_at=self.started_at,
            ended_at=self.ended_at,
            device_id=self.device_id,
            version=self.version,
            consent_accepted=self.consent.accepted if self.consent else None,
            respondent_code=self.respondent,
        )


class StoredOut(BaseModel):
    id: int | None
    instance_id: str
    outcome: str
    version: int | None
    status: str | None
    received_at: datetime | None
    withdrawal_code: str
    errors: dict[str, str]


def _stored_out(result: SubmitResult) -> dict[str, Any]:
    submission = result.submission
    return {
        "id": submission.pk if submission else None,
        "instance_id": result.instance_id,
        "outcome": result.outcome,
        "version": submission.version.number if submission else None,
        "status": submission.status if submission else None,
        "received_at": submission.received_at if submission else None,
        "withdrawal_code": result.withdrawal_code,
        "errors": result.errors,
    }


@router.post("/forms/{form}/submissions", response={201: StoredOut, 200: StoredOut})
def submit(request: HttpRequest, form: int, payload: SubmissionIn) -> Status:
    """Store one submission: 201 when stored, 200 when this instance id was already received
    (or withdrawn), 422 with a message per field when an answer is wrong."""
    result = submission_services.submit(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        form_pk=form,
        item=payload.to_input(),
    )
    return Status(201 if result.outcome == "created" else 200, _stored_out(result))


class BatchIn(BaseModel):
    submissions: list[SubmissionIn]


class BatchOut(BaseModel):
    created: int
    duplicates: int
    withdrawn: int
    invalid: int
    results: list[StoredOut]


@router.post("/forms/{form}/submissions/batch", response=BatchOut)
def submit_batch(request: HttpRequest, form: int, payload: BatchIn) -> dict[str, Any]:
    """Up to 1,000 submissions at once, each with its own result."""
    results = submission_services.submit_batch(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        form_pk=form,
        items=[item.to_input() for item in payload.submissions],
        limit=settings.SUBMISSION_BATCH_MAX,
    )
    counts = {outcome: 0 for outcome in ("created", "duplicate", "withdrawn", "invalid")}
    for result in results:
        counts[result.outcome] += 1
    return {
        "created": counts["created"],
        "duplicates": counts["duplicate"],
        "withdrawn": counts["withdrawn"],
        "invalid": counts["invalid"],
        "results": [_stored_out(result) for result in results],
    }


class SubmissionOut(Schema):
    id: int
    instance_id: str
    form: int
    version: int
    status: str
    status_reason: str
    language: str
    started_at: datetime | None
    ended_at: datetime | None
    received_at: datetime
    collected_by: str | None
    device_id: str
    channel: str
    revision: int
    answers: dict[str, Any]


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None


class SubmissionFilters(Schema):
    version: int | None = None
    since: datetime | None = Field(None, description="Received at or after")
    until: datetime | None = Field(None, description="Received before")
    collected_by: str | None = None
    status: Literal["received", "approved", "flagged", "rejected"] | None = None
    cursor: str | None = None
    limit: int = Field(100, ge=1, le=1000)


def _submission_out(submission: Submission, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": submission.pk,
        "instance_id": submission.instance_id,
        "form": submission.form_id,
        "version": submission.version.number,
        "status": submission.status,
        "status_reason": submission.status_reason,
        "language": submission.language,
        "started_at": submission.started_at,
        "ended_at": submission.ended_at,
        "received_at": submission.received_at,
        "collected_by": submission.collected_by.username if submission.collected_by else None,
        "device_id": submission.device_id,
        "channel": submission.channel,
        "revision": submission.revision,
        "answers": answers,
    }


@router.get("/forms/{form}/submissions", response=SubmissionPage)
def list_submissions(
    request: HttpRequest, form: int, filters: Query[SubmissionFilters]
) -> dict[str, Any]:
    """Raw submissions, newest first, for roles that may read raw data (each read is audited)."""
    page = queries.submission_page(
        signed_in_user(request),
        api_origin(request),
        form,
        queries.SubmissionQuery(
            version=filters.version,
            since=filters.since,
            until=filters.until,
            collected_by=filters.collected_by,
            status=filters.status,
            cursor=filters.cursor,
            limit=filters.limit,
        ),
    )
    return {
        "items": [_submission_out(s, answers) for s, answers in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/submissions/{submission}", response=SubmissionOut)
def get_submission(request: HttpRequest, submission: int) -> dict[str, Any]:
    found, answers = queries.read_submission(
        signed_in_user(request), api_origin(request), submission
    )
    return _submission_out(found, answers)


class EditIn(Schema):
    answers: dict[str, Any]
    reason: str = Field(..., min_length=1, max_length=2000)


@router.patch("/submissions/{submission}", response=SubmissionOut)
def edit_submission(request: HttpRequest, submission: int, payload: EditIn) -> dict[str, Any]:
    """Correct a submission's answers; the previous answers are kept as a revision."""
    edited = review_services.edit_submission(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        submission_pk=submission,
        answers=payload.answers,
        reason=payload.reason,
    )
    return _submission_out(edited, queries.current_answers(edited))


class ReviewIn(Schema):
    action: Literal["approve", "flag", "reject"]
    reason: str = ""


@router.post("/submissions/{submission}/review", response=SubmissionOut)
def review(request: HttpRequest, submission: int, payload: ReviewIn) -> dict[str, Any]:
    reviewed = review_services.review_submission(
        acting_user=signed_in_user(request),
        origin=api_origin(request),
        submission_pk=submission,
        action=payload.action,
        reason=payload.reason,
    )
    return _submission_out(reviewed, queries.current_answers(reviewed))


class RevisionOut(Schema):
    number: int
    made_by: str | None
    made_at: datetime
    replaced_by: str | None
    replaced_at: datetime
    reason: str
    answers: dict[str, Any]


@router.get("/submissions/{submission}/revisions", response=list[RevisionOut])
def list_revisions(request: HttpRequest, submission: int) -> list[dict[str, Any]]:
    revisions: list[SubmissionRevision] = queries.read_revisions(
        signed_in_user(request), api_origin(request), submission
    )
    return [
        {
            "number": revision.number,
            "made_by": revision.made_by.username if revision.made_by else None,
            "made_at": revision.made_at,
            "replaced_by": revision.replaced_by.username if revision.replaced_by else None,
            "replaced_at": revision.replaced_at,
            "reason": revision.reason,
            "answers": queries.revision_answers(revision),
        }
        for revision in revisions
    ]


# --- consent -------------------------------------------------------------------------


class WithdrawIn(Schema):
    code: str = Field(..., max_length=40)


class WithdrawOut(Schema):
    withdrawn_at: datetime
    submissions_removed: int
    already_withdrawn: bool


@router.post("/consent/withdraw", response=WithdrawOut, auth=None)
def withdraw(request: HttpRequest, payload: WithdrawIn) -> dict[str, Any]:
    """Remove every answer held under a respondent's withdrawal code (no sign-in needed)."""
    result = withdrawal_services.withdraw(origin=api_origin(request), code=payload.code)
    return {
        "withdrawn_at": result.tombstone.withdrawn_at,
        "submissions_removed": result.tombstone.submissions_removed,
        "already_withdrawn": result.already,
    }
