"""The cross-table API as a viewer, a researcher and an outsider meet it: refusals first."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind, User
from incity.surveys.models import Form
from tests.personas import Cast, bearer
from tests.surveys.forms import published_form, stored

pytestmark = pytest.mark.django_db

# (tenure, barriers) -> how many people answered so: 12 owners, 3 private renters, 15 social.
PEOPLE: list[tuple[str, list[str], int]] = [
    ("owner", ["no_time"], 10),
    ("owner", ["no_time", "childcare"], 2),
    ("private_rent", ["language"], 3),
    ("social_rent", ["childcare"], 11),
    ("social_rent", ["language", "childcare"], 4),
]


@pytest.fixture
def form(cast: Cast) -> Form:
    form = published_form(cast)
    for tenure, barriers, people in PEOPLE:
        for _ in range(people):
            rent = None if tenure == "owner" else 500.0
            stored(form, cast.fieldworker, tenure=tenure, barriers=barriers, rent=rent)
    return form


def _get(user: User | None, form: Form, query: str) -> Any:
    headers = bearer(user) if user is not None else {}
    return Client().get(f"/api/v1/forms/{form.pk}/tables?{query}", headers=headers)


def _cells(body: dict[str, Any]) -> dict[tuple[str | None, str | None], Any]:
    return {(cell["row"], cell["col"]): cell for cell in body["cells"]}


def _raw_reads() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action="tables.read").count()


# --- refusals --------------------------------------------------------------------------


def test_an_anonymous_request_is_refused_with_401(form: Form) -> None:
    assert _get(None, form, "rows=tenure").status_code == 401


def test_another_citys_lead_cannot_tell_the_form_exists(cast: Cast, form: Form) -> None:
    response = _get(cast.outsider, form, "rows=tenure")
    assert response.status_code == 404
    assert response.json()["message"] == f"No form {form.pk} among yours."


def test_another_citys_lead_gets_404_for_raw_too_and_nothing_is_audited(
    cast: Cast, form: Form
) -> None:
    assert _get(cast.outsider, form, "rows=tenure&scope=raw").status_code == 404
    assert _raw_reads() == 0


def test_a_viewer_cannot_read_the_raw_table(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=tenure&scope=raw")
    assert response.status_code == 403
    assert _raw_reads() == 0


def test_a_partner_cannot_read_the_raw_table(cast: Cast, form: Form) -> None:
    assert _get(cast.partner, form, "rows=tenure&scope=raw").status_code == 403


def test_an_unknown_question_is_named(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=shoe_size")
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "rows"
    assert "shoe_size" in body["message"]


def test_a_number_question_cannot_be_the_rows_and_its_type_is_named(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=age")
    assert response.status_code == 422
    assert response.json()["extra"] == {"field": "rows", "question": "age", "type": "integer"}
    assert "integer" in response.json()["message"]


def test_a_text_question_cannot_be_the_columns(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&cols=comment")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "cols"


def test_a_malformed_filter_is_named(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&filter=tenure")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "filter"
    assert "QUESTION=LEVEL" in response.json()["message"]


def test_an_unknown_level_is_named_with_the_choices(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=barriers&filter=tenure=castle")
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "filter"
    assert "castle" in body["message"]
    assert "owner" in body["message"]


def test_a_bad_date_is_named(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&since=yesterday")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "since"


def test_an_end_before_the_start_is_refused(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&since=2026-05-02&until=2026-05-01")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "until"


def test_an_unknown_scope_is_refused(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&scope=everything")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "scope"


def test_the_same_question_cannot_be_rows_and_columns(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&cols=tenure")
    assert response.status_code == 422
    assert response.json()["extra"]["field"] == "cols"


def test_bad_requests_write_no_audit_rows(cast: Cast, form: Form) -> None:
    headers = bearer(cast.researcher)
    before = AuditEvent.objects.count()
    for query in ("rows=age&scope=raw", "rows=tenure&filter=x&scope=raw", "rows=nope&scope=raw"):
        response = Client().get(f"/api/v1/forms/{form.pk}/tables?{query}", headers=headers)
        assert response.status_code == 422
    assert AuditEvent.objects.count() == before


# --- published tables ------------------------------------------------------------------


def test_a_viewer_sees_the_published_table_with_small_counts_hidden(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=tenure")
    assert response.status_code == 200
    body = response.json()
    cells = _cells(body)
    assert body["scope"] == "published"
    assert body["threshold"] == 10
    assert cells[("owner", None)]["count"] is None
    assert cells[("owner", None)]["suppressed"] == "secondary"
    assert cells[("private_rent", None)]["count"] is None
    assert cells[("private_rent", None)]["suppressed"] == "primary"
    assert cells[("private_rent", None)]["percent"] is None
    assert cells[("social_rent", None)]["count"] == 15
    assert cells[("social_rent", None)]["percent"] == 50.0
    assert body["totals"]["all"]["count"] == 30
    assert {"row": "private_rent", "col": None, "what": "count", "reason": "primary"} in body[
        "suppressed"
    ]
    assert _raw_reads() == 0


def test_a_published_request_writes_no_raw_read(cast: Cast, form: Form) -> None:
    assert _get(cast.researcher, form, "rows=tenure&cols=barriers").status_code == 200
    assert _raw_reads() == 0


def test_a_filtered_table_hides_what_the_unfiltered_table_would_reveal(
    cast: Cast, form: Form
) -> None:
    whole = _cells(_get(cast.viewer, form, "rows=barriers").json())
    renters = _cells(_get(cast.viewer, form, "rows=barriers&filter=tenure=social_rent").json())
    for key, cell in renters.items():
        if cell["count"] is not None and whole[key]["count"] is not None:
            difference = whole[key]["count"] - cell["count"]
            assert not 0 < difference < 10, key


# --- raw tables ------------------------------------------------------------------------


def test_a_researcher_reads_the_raw_counts_and_the_read_is_audited(cast: Cast, form: Form) -> None:
    response = _get(cast.researcher, form, "rows=tenure&cols=barriers&scope=raw")
    assert response.status_code == 200
    body = response.json()
    cells = _cells(body)
    assert cells[("owner", "no_time")]["count"] == 12
    assert cells[("owner", "childcare")]["count"] == 2
    assert cells[("social_rent", "childcare")]["count"] == 15
    assert cells[("social_rent", "language")]["count"] == 4
    assert cells[("private_rent", "language")]["count"] == 3
    totals = {(t["row"], t["col"]): t["count"] for t in body["totals"]["rows"]}
    assert totals[("owner", None)] == 12
    cols = {t["col"]: t["count"] for t in body["totals"]["cols"]}
    # People, not choices: 12 + 15 named childcare... of whom 2 owners and 15 social renters.
    assert cols == {"no_time": 12, "childcare": 17, "language": 7}
    assert body["totals"]["all"]["count"] == 30
    assert body["suppressed"] == []
    event = AuditEvent.objects.get(kind=AuditKind.RAW_READ, action="tables.read")
    assert event.actor == cast.researcher
    assert event.project == cast.survey
    assert event.detail["request"]["cols"] == "barriers"


def test_a_filter_and_a_date_window_narrow_the_raw_counts(cast: Cast, form: Form) -> None:
    body = _get(cast.researcher, form, "rows=barriers&filter=tenure=social_rent&scope=raw").json()
    cells = _cells(body)
    assert cells[("childcare", None)]["count"] == 15
    assert cells[("language", None)]["count"] == 4
    assert cells[("no_time", None)]["count"] == 0
    assert body["totals"]["all"]["count"] == 15
    empty = _get(cast.researcher, form, "rows=tenure&until=2000-01-01&scope=raw").json()
    assert empty["totals"]["all"]["count"] == 0


def test_a_new_submission_shows_in_the_next_table(cast: Cast, form: Form) -> None:
    stored(form, cast.fieldworker, tenure="owner", barriers=["no_time"], rent=None)
    body = _get(cast.researcher, form, "rows=tenure&scope=raw").json()
    assert _cells(body)[("owner", None)]["count"] == 13


def test_a_repeated_published_table_comes_from_the_cache_until_the_data_changes(
    cast: Cast, form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incity.analysis import query

    calls: list[object] = []
    counted = query.grouped_counts

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return counted(*args, **kwargs)

    monkeypatch.setattr(query, "grouped_counts", counting)
    first = _get(cast.viewer, form, "rows=tenure").json()
    assert _get(cast.viewer, form, "rows=tenure").json() == first
    assert len(calls) == 1
    stored(form, cast.fieldworker, tenure="owner", barriers=["no_time"], rent=None)
    after = _get(cast.viewer, form, "rows=tenure").json()
    assert len(calls) == 2
    assert after != first  # 13 owners now, computed afresh
