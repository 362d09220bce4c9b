"""Cross-tables by a sensitive question (migration background): counted from answers
decrypted in memory, audited, through the same gate, never written to the snapshot."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.test import Client

from incity.accounts.audit import Origin
from incity.accounts.models import AuditEvent, AuditKind, User
from incity.analysis.query import snapshot_dir
from incity.analysis.sensitive_groups import AUDIT_ACTION
from incity.surveys.crypto import decrypt_json
from incity.surveys.models import Form, Submission
from incity.surveys.services.sensitivity import set_sensitive_questions
from tests.personas import Cast, bearer
from tests.surveys.forms import published_form, stored

pytestmark = pytest.mark.django_db

# (tenure, born here) -> people: enough for most cells to pass the threshold of 10.
PEOPLE: list[tuple[str, str, int]] = [
    ("owner", "yes", 14),
    ("owner", "no", 12),
    ("social_rent", "yes", 11),
    ("social_rent", "no", 16),
    ("private_rent", "no", 4),
]


@pytest.fixture
def form(cast: Cast) -> Form:
    form = published_form(cast)
    for tenure, born_here, people in PEOPLE:
        for _ in range(people):
            rent = None if tenure == "owner" else 500.0
            stored(form, cast.fieldworker, tenure=tenure, born_here=born_here, rent=rent)
    return form


def _get(user: User, form: Form, query: str) -> Any:
    return Client().get(f"/api/v1/forms/{form.pk}/tables?{query}", headers=bearer(user))


def _cells(body: dict[str, Any]) -> dict[tuple[str | None, str | None], Any]:
    return {(cell["row"], cell["col"]): cell["count"] for cell in body["cells"]}


def _truth(form: Form) -> Counter[tuple[str, str]]:
    """(tenure, born_here) -> people, from the stored answers decrypted one by one."""
    found: Counter[tuple[str, str]] = Counter()
    for answers, secret in Submission.objects.filter(form=form).values_list("answers", "sensitive"):
        found[(answers["tenure"], decrypt_json(secret)["born_here"])] += 1
    return found


def _sensitive_reads() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action=AUDIT_ACTION).count()


def test_a_viewer_gets_the_published_table_by_migration_background(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=tenure&cols=born_here")
    assert response.status_code == 200, response.content
    cells = _cells(response.json())
    truth = _truth(form)
    shown = {key: count for key, count in cells.items() if count is not None}
    for (tenure, born_here), count in shown.items():
        if tenure is not None and born_here is not None:
            assert count == truth[(tenure, born_here)]
    inner = [key for key in shown if None not in key]
    assert len(inner) >= 2, shown
    assert shown[("social_rent", "no")] == 16
    # 4 private renters born abroad: below the threshold, so hidden.
    assert cells[("private_rent", "no")] is None
    assert _sensitive_reads() == 1


def test_a_filter_by_a_sensitive_question_counts_only_that_group(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=tenure&filter=born_here=yes")
    assert response.status_code == 200, response.content
    cells = _cells(response.json())
    assert cells[("owner", None)] == 14
    assert cells[("social_rent", None)] == 11
    # No private renter was born here: an empty cell is not a small one.
    assert cells[("private_rent", None)] == 0


def test_the_filtered_table_cannot_be_subtracted_from_the_unfiltered_one(
    cast: Cast, form: Form
) -> None:
    whole = _cells(_get(cast.viewer, form, "rows=tenure").json())
    born_abroad = _cells(_get(cast.viewer, form, "rows=tenure&filter=born_here=no").json())
    for key, count in born_abroad.items():
        if count is not None and whole.get(key) is not None:
            assert not 0 < whole[key] - count < 10, key


def test_a_researcher_reads_raw_counts_by_it_and_both_reads_are_audited(
    cast: Cast, form: Form
) -> None:
    response = _get(cast.researcher, form, "rows=born_here&scope=raw")
    assert response.status_code == 200, response.content
    assert _cells(response.json())[("no", None)] == 32
    assert _sensitive_reads() == 1
    assert AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action="tables.read").count() == 1


def test_a_viewer_cannot_read_raw_counts_by_it(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=born_here&scope=raw")
    assert response.status_code == 403
    assert _sensitive_reads() == 0


def test_a_repeated_published_table_reads_nothing_again(cast: Cast, form: Form) -> None:
    assert _get(cast.viewer, form, "rows=tenure&cols=born_here").status_code == 200
    assert _get(cast.viewer, form, "rows=tenure&cols=born_here").status_code == 200
    assert _sensitive_reads() == 1


def test_a_sensitive_number_cannot_group_a_table(cast: Cast, form: Form) -> None:
    set_sensitive_questions(
        acting_user=cast.lead, origin=Origin.cli(), project=form.project, names=["rent"]
    )
    response = _get(cast.viewer, form, "rows=tenure&filter=rent=500")
    assert response.status_code == 422
    body = response.json()
    assert body["extra"]["field"] == "filter"
    assert "only a sensitive select_one" in body["message"]
    assert _sensitive_reads() == 0


def test_an_unknown_level_of_a_sensitive_question_is_named(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, "rows=tenure&filter=born_here=maybe")
    assert response.status_code == 422
    assert "'maybe' is not a choice of 'born_here'" in response.json()["message"]
    assert _sensitive_reads() == 0


def test_the_levels_never_reach_the_snapshot(cast: Cast, form: Form) -> None:
    import pyarrow.parquet as pq

    assert _get(cast.viewer, form, "rows=tenure&cols=born_here").status_code == 200
    files = list(snapshot_dir().glob(f"form-{form.pk}-*.parquet"))
    assert files
    for path in files:
        assert "born_here" not in pq.read_schema(path).names
