"""`GET /api/v1/forms/{form}/tables`: cross-tables of a form's answers (analysis/tables.py)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from incity.accounts.audit import Origin
from incity.accounts.models import User
from incity.analysis.tables import TableRequest, cross_table

router = Router(tags=["analysis"])


class TableParams(Schema):
    rows: str = Field(..., min_length=1, max_length=100, description="Question for the rows")
    cols: str | None = Field(None, max_length=100, description="Question for the columns")
    filter: list[str] = Field(
        default_factory=list, description="QUESTION=LEVEL; repeat for several (all must hold)"
    )
    since: date | None = Field(None, description="First day received (YYYY-MM-DD)")
    until: date | None = Field(None, description="Last day received, included (YYYY-MM-DD)")
    scope: Literal["published", "raw"] = Field(
        "published", description="published: through disclosure control; raw: audited"
    )


@router.get("/forms/{form}/tables")
def form_table(request: HttpRequest, form: int, params: Query[TableParams]) -> dict[str, Any]:
    """A cross-table of people by a choice question (and optionally a second one).

    `scope=published` (anyone who may see published figures) passes the table
    through disclosure control: small counts and what would reveal them are
    hidden, and `suppressed` lists them with the reason. `scope=raw` needs a
    role that may read raw data; each such read is audited.
    """
    user = request.user
    assert isinstance(user, User)
    return cross_table(
        user,
        Origin.from_request(request, channel="api"),
        form,
        TableRequest(
            rows=params.rows,
            cols=params.cols or None,
            filters=tuple(params.filter),
            since=params.since,
            until=params.until,
            scope=params.scope,
        ),
    )
