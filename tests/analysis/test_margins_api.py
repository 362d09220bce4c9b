"""Population margins and weighted estimates through the API: refusals first."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind, User
from incity.analysis.models import PopulationMargin
from incity.surveys.models import Form
from tests.personas import Cast, bearer
from tests.surveys.forms import published_form, stored

pytestmark = pytest.mark.django_db

# (tenure, born_here, age) and how many people answered so.
PEOPLE: list[tuple[str, str, int, int]] = [
    ("owner", "yes", 60, 10),
    ("owner", "no", 40, 2),
    ("private_rent", "no", 30, 3),
    ("social_rent", "yes", 50, 11),
    ("social_rent", "no", 20, 4),
]
TENURE = {"owner": 5000.0, "private_rent": 2000.0, "social_rent": 3000.0}


@pytest.fixture
def form(cast: Cast) -> Form:
    form = published_form(cast)
    for tenure, born_here, age, people in PEOPLE:
        for _ in range(people):
            rent = None if tenure == "owner" else 500.0
            stored(form, cast.fieldworker, tenure=tenure, born_here=born_here, age=age, rent=rent)
    return form


def _margins(user: User | None, slug: str, method: str = "get", body: Any = None) -> Any:
    headers = bearer(user) if user is not None else {}
    client = Client()
    url = f"/api/v1/projects/{slug}/margins"
    if method == "put":
        return client.put(url, body, content_type="application/json", headers=headers)
    return client.get(url, headers=headers)


def _put(cast: Cast, user: User, margins: list[dict[str, Any]], **extra: Any) -> Any:
    return _margins(user, cast.survey.slug, "put", {"margins": margins, **extra})


def _tenure(totals: dict[str, float] = TENURE) -> list[dict[str, Any]]:
    return [{"variable": "tenure", "level": k, "total": v} for k, v in totals.items()]


def _writes() -> int:
    return AuditEvent.objects.filter(action="margins.replace").count()


# --- margins: refusals ------------------------------------------------------------------------


def test_an_outsider_cannot_see_or_set_the_margins(cast: Cast, form: Form) -> None:
    assert _margins(cast.outsider, cast.survey.slug).status_code == 404
    assert _put(cast, cast.outsider, _tenure()).status_code == 404
    assert PopulationMargin.objects.count() == 0


def test_anonymous_requests_are_refused(cast: Cast, form: Form) -> None:
    assert _margins(None, cast.survey.slug).status_code == 401


def test_a_viewer_may_read_but_not_set_margins(cast: Cast, form: Form) -> None:
    assert _margins(cast.viewer, cast.survey.slug).status_code == 200
    assert _put(cast, cast.viewer, _tenure()).status_code == 403
    assert PopulationMargin.objects.count() == 0


@pytest.mark.parametrize(
    ("margins", "expected"),
    [
        (
            [{"variable": "colour", "level": "red", "total": 5}],
            "'colour' is not a single-choice question",
        ),
        ([{"variable": "age", "level": "30", "total": 5}], "'age' is not a single-choice question"),
        # Sensitive answers never reach the typed answers, so nothing can be weighted to them.
        (
            [{"variable": "born_here", "level": "yes", "total": 5}],
            "'born_here' is not a single-choice question",
        ),
        (
            [{"variable": "tenure", "level": "castle", "total": 5}],
            "'castle' is not a choice of 'tenure'",
        ),
        ([{"variable": "tenure", "level": "owner", "total": -5}], "must be positive"),
        ([{"variable": "tenure", "level": "owner", "total": 0}], "must be positive"),
        (
            [
                {"variable": "tenure", "level": "owner", "total": 5},
                {"variable": "tenure", "level": "owner", "total": 6},
            ],
            "given twice",
        ),
    ],
)
def test_bad_margins_are_refused_with_the_reason_and_nothing_is_written(
    cast: Cast, form: Form, margins: list[dict[str, Any]], expected: str
) -> None:
    response = _put(cast, cast.lead, margins)
    assert response.status_code == 422
    assert expected in response.json()["message"]
    assert PopulationMargin.objects.count() == 0
    assert _writes() == 0


def test_a_margins_csv_without_a_total_column_is_refused(cast: Cast, form: Form) -> None:
    upload = SimpleUploadedFile(
        "m.csv", b"variable,level,count\ntenure,owner,5\n", content_type="text/csv"
    )
    response = Client().post(
        f"/api/v1/projects/{cast.survey.slug}/margins/csv",
        {"file": upload},
        headers=bearer(cast.lead),
    )
    assert response.status_code == 422
    assert "'total' is missing" in response.json()["message"]
    assert PopulationMargin.objects.count() == 0


def test_a_margins_csv_with_a_word_for_a_total_is_refused(cast: Cast, form: Form) -> None:
    upload = SimpleUploadedFile(
        "m.csv", b"variable,level,total\ntenure,owner,many\n", content_type="text/csv"
    )
    response = Client().post(
        f"/api/v1/projects/{cast.survey.slug}/margins/csv",
        {"file": upload},
        headers=bearer(cast.lead),
    )
    assert response.status_code == 422
    assert "Line 2" in response.json()["message"]


# --- margins: acceptances -----------------------------------------------------------------------


def test_the_lead_sets_margins_which_are_audited_and_readable(cast: Cast, form: Form) -> None:
    response = _put(cast, cast.lead, _tenure(), source="Census 2021 (synthetic)", synthetic=True)
    assert response.status_code == 200, response.content
    assert _writes() == 1
    listing = _margins(cast.viewer, cast.survey.slug).json()
    assert {(m["level"], m["total"]) for m in listing["margins"]} == set(TENURE.items())
    assert listing["synthetic"] is True
    assert all(m["source"] == "Census 2021 (synthetic)" for m in listing["margins"])


def test_margins_import_from_csv_replaces_the_old_ones(cast: Cast, form: Form) -> None:
    _put(cast, cast.lead, _tenure())
    upload = SimpleUploadedFile(
        "m.csv",
        b"variable,level,total\ntenure,owner,5\ntenure,private_rent,3\ntenure,social_rent,2\n",
        content_type="text/csv",
    )
    response = Client().post(
        f"/api/v1/projects/{cast.survey.slug}/margins/csv",
        {"file": upload, "source": "census"},
        headers=bearer(cast.lead),
    )
    assert response.status_code == 200, response.content
    assert dict(PopulationMargin.objects.values_list("level", "total")) == {
        "owner": 5,
        "private_rent": 3,
        "social_rent": 2,
    }


# --- estimates -----------------------------------------------------------------------------------


def _estimates(user: User | None, form: Form, query: str) -> Any:
    headers = bearer(user) if user is not None else {}
    return Client().get(f"/api/v1/forms/{form.pk}/estimates?{query}", headers=headers)


def _raw_reads() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action="estimates.read").count()


def test_an_outsider_gets_no_estimates(cast: Cast, form: Form) -> None:
    assert (
        _estimates(cast.outsider, form, "proportion=tenure=owner&weights=none").status_code == 404
    )


def test_a_viewer_may_not_ask_for_raw_estimates(cast: Cast, form: Form) -> None:
    assert (
        _estimates(cast.viewer, form, "proportion=tenure=owner&weights=none&scope=raw").status_code
        == 403
    )
    assert _raw_reads() == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("proportion=colour=red&weights=none", "no question 'colour'"),
        ("proportion=tenure=castle&weights=none", "'castle' is not a choice of 'tenure'"),
        ("proportion=tenure&weights=none", "expects COL=LEVEL"),
        ("mean=tenure&weights=none", "needs a number question"),
        ("proportion=tenure=owner&by=age&weights=none", "needs a single-choice question"),
        ("proportion=tenure=owner&mean=age&weights=none", "exactly one of"),
        ("weights=none", "exactly one of"),
        ("proportion=tenure=owner", "no population margins"),
        ("proportion=tenure=owner&weights=sometimes", "weights"),
    ],
)
def test_bad_estimate_requests_are_refused(
    cast: Cast, form: Form, query: str, expected: str
) -> None:
    response = _estimates(cast.researcher, form, query)
    assert response.status_code == 422
    assert expected in response.json()["message"]


def test_a_post_stratified_mean_matches_the_closed_form(cast: Cast, form: Form) -> None:
    _put(cast, cast.lead, _tenure())
    response = _estimates(cast.researcher, form, "mean=age&weights=poststratify&scope=raw")
    assert response.status_code == 200, response.content
    (overall,) = response.json()["estimates"]
    # Cell means 680/12, 30 and 630/15, weighted 0.5, 0.2 and 0.3.
    assert overall["estimate"] == pytest.approx(0.5 * 680 / 12 + 0.2 * 30 + 0.3 * 42)
    assert overall["n"] == 30
    assert overall["ci_low"] < overall["estimate"] < overall["ci_high"]
    assert response.json()["design"]["se_reflects_calibration"] is True
    assert _raw_reads() == 1


def test_a_sensitive_question_cannot_be_estimated(cast: Cast, form: Form) -> None:
    response = _estimates(cast.researcher, form, "proportion=born_here=yes&weights=none&scope=raw")
    assert response.status_code == 422
    assert "sensitive" in response.json()["message"]


def test_unweighted_estimates_by_group_use_the_whole_sample_design(cast: Cast, form: Form) -> None:
    body = _estimates(
        cast.researcher, form, "proportion=tenure=owner&weights=none&scope=raw"
    ).json()
    (overall,) = body["estimates"]
    assert overall["estimate"] == pytest.approx(12 / 30)
    assert overall["se"] == pytest.approx(math.sqrt(0.4 * 0.6 / 29), rel=1e-9)
    body = _estimates(cast.researcher, form, "mean=age&by=tenure&weights=none&scope=raw").json()
    groups = {row["group"]: row for row in body["estimates"]}
    assert groups["owner"]["estimate"] == pytest.approx(680 / 12)
    # Domain variance on the whole sample: z_i = 1{owner}(y_i - mean)/12, variance n/(n-1) sum z^2.
    mean = 680 / 12
    z2 = (10 * (60 - mean) ** 2 + 2 * (40 - mean) ** 2) / 12**2
    assert groups["owner"]["se"] == pytest.approx(math.sqrt(30 / 29 * z2), rel=1e-9)


def test_published_estimates_hide_groups_below_the_threshold(cast: Cast, form: Form) -> None:
    body = _estimates(cast.viewer, form, "mean=age&by=tenure&weights=none").json()
    groups = {row["group"]: row for row in body["estimates"]}
    # 3 private renters are below the threshold of 10; another group goes with them.
    assert groups["private_rent"]["estimate"] is None
    assert groups["private_rent"]["suppressed"] == "primary"
    assert sum(1 for row in groups.values() if row["suppressed"]) >= 2
    assert any("hidden" in note for note in body["notes"])
    assert _raw_reads() == 0
