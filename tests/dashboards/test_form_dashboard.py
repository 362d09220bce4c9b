"""The form dashboard as people meet it: refusals first, then published and raw figures."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind
from incity.surveys.models import Form
from tests.personas import Cast, bearer, signed_in
from tests.surveys.forms import published_form, stored

pytestmark = pytest.mark.django_db

# 12 owners, 3 private renters, 15 social renters: private renting is a small count.
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


def _page(client: Client, form: Form, query: str = "") -> Any:
    return client.get(f"/dashboards/forms/{form.pk}/{query}")


def _download(client: Client, form: Form, name: str, query: str = "") -> Any:
    return client.get(f"/dashboards/forms/{form.pk}/charts/{name}{query}")


def _raw_reads() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.RAW_READ, action="dashboards.read").count()


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


SMALL = re.compile(r"^[1-9]$")


# --- refusals --------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(form: Form) -> None:
    response = _page(Client(), form)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_another_citys_lead_cannot_tell_the_form_exists(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.outsider), form)
    assert response.status_code == 404
    assert f"No form {form.pk} among yours." in response.content.decode()


def test_another_citys_lead_cannot_download_a_chart(cast: Cast, form: Form) -> None:
    assert _download(signed_in(cast.outsider), form, "question-tenure.csv").status_code == 404


def test_a_bad_filter_from_an_outsider_still_answers_404(cast: Cast, form: Form) -> None:
    assert _page(signed_in(cast.outsider), form, "?since=not-a-date").status_code == 404


def test_a_viewer_cannot_see_raw_figures_and_nothing_is_audited(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?scope=raw")
    assert response.status_code == 403
    assert (
        _download(signed_in(cast.viewer), form, "question-tenure.csv", "?scope=raw").status_code
        == 403
    )
    assert _raw_reads() == 0


def test_a_partner_cannot_see_raw_figures(cast: Cast, form: Form) -> None:
    assert _page(signed_in(cast.partner), form, "?scope=raw").status_code == 403


def test_an_unknown_scope_is_named(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?scope=everything")
    assert response.status_code == 422
    assert "scope: &#x27;everything&#x27; is not published or raw." in response.content.decode()


def test_an_unknown_question_in_the_cross_table_is_named(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?rows=shoe_size&cols=tenure")
    assert response.status_code == 422
    assert (
        "rows: &#x27;shoe_size&#x27; is not a single or multiple choice question"
        in response.content.decode()
    )


def test_a_number_question_cannot_be_a_cross_table_axis(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?rows=tenure&cols=age")
    assert response.status_code == 422
    assert (
        "cols: &#x27;age&#x27; is not a single or multiple choice question"
        in response.content.decode()
    )


def test_a_cross_table_needs_both_questions(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?rows=tenure")
    assert response.status_code == 422
    assert "needs both rows and cols" in response.content.decode()


def test_a_bad_date_is_named(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?since=2026-13-01")
    assert response.status_code == 422
    assert "since: &#x27;2026-13-01&#x27; is not a date (YYYY-MM-DD)." in response.content.decode()


def test_an_end_before_the_start_is_refused(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?since=2026-10-02&until=2026-10-01")
    assert response.status_code == 422
    assert "until: the end date is before the start date" in response.content.decode()


def test_a_neighbourhood_filter_needs_a_neighbourhood_question(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?neighbourhood=north")
    assert response.status_code == 422
    assert "this form has no neighbourhood question" in response.content.decode()


def test_an_unknown_group_level_is_named_with_the_choices(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?group=tenure=castle")
    assert response.status_code == 422
    assert (
        "group: &#x27;castle&#x27; is not a choice of &#x27;tenure&#x27;"
        in response.content.decode()
    )


def test_a_group_must_be_question_equals_level(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?group=tenure")
    assert response.status_code == 422
    assert "is not QUESTION=LEVEL" in response.content.decode()


def test_an_unknown_section_is_named(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form, "?section=nowhere")
    assert response.status_code == 422
    assert "section: the form has no section &#x27;nowhere&#x27;" in response.content.decode()


def test_a_sensitive_question_is_never_charted_or_grouped_on(cast: Cast, form: Form) -> None:
    client = signed_in(cast.lead)
    assert _download(client, form, "question-born_here.csv", "?scope=raw").status_code == 404
    response = _page(client, form, "?group=born_here=no")
    assert response.status_code == 422
    assert "born_here" in response.content.decode()


def test_an_unknown_chart_or_format_is_not_found(cast: Cast, form: Form) -> None:
    client = signed_in(cast.viewer)
    assert _download(client, form, "question-shoe_size.csv").status_code == 404
    assert _download(client, form, "question-tenure.pdf").status_code == 404


def test_comparing_with_another_citys_form_answers_404(cast: Cast, form: Form) -> None:
    from incity.surveys.services import forms as form_services
    from tests.personas import SYSTEM
    from tests.surveys.forms import household_definition

    theirs = form_services.create_form(
        acting_user=cast.outsider,
        origin=SYSTEM,
        project_slug=cast.hillside_project.slug,
        definition=household_definition(form_id="theirs"),
    )
    response = _page(signed_in(cast.lead), form, f"?compare_form={theirs.pk}")
    assert response.status_code == 404


def test_a_form_cannot_be_compared_with_itself(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.lead), form, f"?compare_form={form.pk}")
    assert response.status_code == 422


# --- published figures -----------------------------------------------------------------


def test_a_viewer_sees_the_small_count_suppressed_with_the_reason(cast: Cast, form: Form) -> None:
    response = _page(signed_in(cast.viewer), form)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="table-question-tenure"' in page
    assert "suppressed (fewer than 10)" in page
    table = page.split('data-testid="table-question-tenure"')[1].split("</table>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert not any(SMALL.match(cell.split(" ")[0]) for cell in cells), cells


def test_no_published_csv_holds_a_count_below_the_threshold(cast: Cast, form: Form) -> None:
    client = signed_in(cast.viewer)
    for name in (
        "question-tenure",
        "question-barriers",
        "responses-by-collector",
        "responses-over-time",
    ):
        rows = _csv(_download(client, form, f"{name}.csv"))
        assert rows[0][0] in ("answer", "collector", "day")
        for row in rows[1:]:
            assert not any(SMALL.match(cell) for cell in row[1:]), (name, row)


def test_published_counts_equal_the_tables_engine(cast: Cast, form: Form) -> None:
    api = (
        Client()
        .get(f"/api/v1/forms/{form.pk}/tables?rows=tenure", headers=bearer(cast.viewer))
        .json()
    )
    rows = _csv(_download(signed_in(cast.viewer), form, "question-tenure.csv"))
    from_api = [cell["count"] for cell in api["cells"]]
    assert from_api[1] is None  # the three private renters
    for row, count in zip(rows[1:4], from_api, strict=True):
        assert row[1] == str(count) if count is not None else row[1].startswith("suppressed (")
    assert rows[4][1] == str(api["totals"]["all"]["count"])


def test_a_cross_table_with_a_group_filter_matches_the_tables_engine(
    cast: Cast, form: Form
) -> None:
    api = (
        Client()
        .get(
            f"/api/v1/forms/{form.pk}/tables?rows=barriers&cols=tenure&filter=barriers=childcare",
            headers=bearer(cast.viewer),
        )
        .json()
    )
    rows = _csv(
        _download(
            signed_in(cast.viewer),
            form,
            "crosstab.csv",
            "?rows=barriers&cols=tenure&group=barriers=childcare",
        )
    )
    cells = {(c["row"], c["col"]): c["count"] for c in api["cells"]}
    labels = {"No time": "no_time", "Childcare": "childcare", "Language": "language"}
    for row in rows[1:4]:
        for col, value in zip(("owner", "private_rent", "social_rent"), row[1:4], strict=True):
            expected = cells[(labels[row[0]], col)]
            assert value == (str(expected) if expected is not None else value)
            if expected is None:
                assert value.startswith("suppressed")


def test_every_chart_has_a_text_alternative_and_the_okabe_ito_palette(
    cast: Cast, form: Form
) -> None:
    page = _page(signed_in(cast.viewer), form).content.decode()
    charts = re.findall(r"<svg[^>]*role=\"img\"[^>]*>", page)
    assert charts
    assert page.count("<title id=") == len(charts) == page.count("<desc id=")
    assert "#0072B2" in page
    assert "Synthetic" not in page  # this form is not synthetic


def test_downloads_are_a_valid_png_svg_and_csv(cast: Cast, form: Form) -> None:
    import xml.etree.ElementTree as ElementTree

    client = signed_in(cast.viewer)
    png = _download(client, form, "question-tenure.png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = _download(client, form, "question-tenure.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert ElementTree.fromstring(svg.content).tag.endswith("svg")
    assert (
        _download(client, form, "question-tenure.csv")["Content-Disposition"]
        == 'attachment; filename="household-question-tenure.csv"'
    )


# --- raw figures -------------------------------------------------------------------------


def test_a_lead_sees_raw_counts_and_the_read_is_audited(cast: Cast, form: Form) -> None:
    rows = _csv(_download(signed_in(cast.lead), form, "question-tenure.csv", "?scope=raw"))
    assert [row[1] for row in rows[1:4]] == ["12", "3", "15"]
    assert _raw_reads() == 1
    page = _page(signed_in(cast.lead), form, "?scope=raw").content.decode()
    assert "Raw figures" in page
    assert _raw_reads() == 2
