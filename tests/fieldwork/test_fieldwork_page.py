"""The fieldwork page at /fieldwork/<project-slug>/ as each persona meets it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.fieldwork.services import record_device_report
from tests.fieldwork.fixtures import Field
from tests.personas import SYSTEM, signed_in

URL = "/fieldwork/riverton-survey/"


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def test_anonymous_visitors_are_sent_to_sign_in(field: Field) -> None:
    response = Client().get(URL)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_outsider_gets_the_not_found_page(field: Field) -> None:
    response = signed_in(field.cast.outsider).get(URL)

    assert response.status_code == 404
    assert "fatima" not in _text(response)


def test_an_unknown_form_gets_the_not_found_page(field: Field) -> None:
    response = signed_in(field.cast.lead).get(URL + "?form=nope")

    assert response.status_code == 404
    assert "nope" in _text(response)


def test_the_page_refuses_to_change_anything(field: Field) -> None:
    assert signed_in(field.cast.lead).post(URL).status_code == 405


@pytest.mark.parametrize("role", ["partner", "viewer"])
def test_partners_and_viewers_see_counts_and_hexagons_but_no_people_or_points(
    field: Field, role: str
) -> None:
    page = _text(signed_in(field.cast.by_role(role)).get(URL))

    assert 'data-testid="by-channel"' in page
    assert 'data-testid="arrivals"' not in page
    assert 'data-testid="devices"' not in page
    assert 'data-testid="by-collector"' not in page
    assert "fatima" not in page
    assert '"points"' not in page
    assert "Submissions per area" in page
    assert not AuditEvent.objects.filter(kind="raw_read").exists()


def test_a_citizen_researcher_sees_her_own_rows_only(field: Field) -> None:
    page = _text(signed_in(field.cast.fieldworker).get(URL))

    arrivals = page.split('data-testid="arrivals"')[1].split("</table>")[0]
    assert arrivals.count("<tr>") == 3  # the header and her two submissions
    assert "fatima" in arrivals
    assert "rami" not in page
    assert "public link" not in arrivals


def test_the_page_never_shows_answers(field: Field) -> None:
    page = _text(signed_in(field.cast.lead).get(URL))

    assert "private_rent" not in page
    assert "no street lights" not in page


def test_the_lead_sees_every_section_with_the_map_and_its_table(field: Field) -> None:
    page = _text(signed_in(field.cast.lead).get(URL))

    for section in ("per-day", "by-collector", "by-channel", "by-status", "arrivals", "devices",
                    "fieldwork-map", "map-table"):  # fmt: skip
        assert f'data-testid="{section}"' in page, section
    assert "5 submissions" in page
    assert "public link" in page
    assert 'id="fieldwork-map-data"' in page
    assert "/static/leaflet/leaflet.js" in page
    assert re.search(r'<svg class="day-chart"[^>]*role="img"', page)
    assert AuditEvent.objects.filter(kind="raw_read", action="fieldwork.points",
                                     channel="web").count() == 1  # fmt: skip


def test_a_stale_device_is_marked_in_words_not_only_colour(field: Field) -> None:
    import datetime as dt

    from django.utils import timezone

    from incity.fieldwork.models import DeviceSync

    record_device_report(acting_user=field.cast.fieldworker, origin=SYSTEM, project=field.project,
                         device_id="quiet-phone", app="web", pending=3, sent_total=1,
                         last_error="HTTP 502")  # fmt: skip
    DeviceSync.objects.update(last_seen=timezone.now() - dt.timedelta(days=3))

    page = _text(signed_in(field.cast.lead).get(URL))

    row = page.split("quiet-phone")[1].split("</tr>")[0]
    assert 'data-testid="stale"' in row
    assert "HTTP 502" in row


def test_the_form_filter_keeps_the_chosen_form_selected(field: Field) -> None:
    page = _text(signed_in(field.cast.lead).get(URL + "?form=walk"))

    assert '<option value="walk" selected>' in page
