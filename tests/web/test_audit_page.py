"""The audit log page: leads and network admins of the organisation only, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditEvent, AuditKind
from tests.personas import Cast, signed_in
from tests.web.pages import html

AUDIT = reverse("web:audit", args=["riverton"])
WEB = Origin(channel="web", ip_address="198.51.100.23", user_agent="test")


def _rows(page: str) -> int:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return body.count("<tr>")


def _add_events(cast: Cast, count: int, action: str = "sample.event") -> None:
    for number in range(count):
        record(
            actor=cast.lead,
            origin=WEB,
            kind=AuditKind.WRITE,
            action=action,
            organisation=cast.riverton,
            detail={"number": number},
        )


def test_the_outsider_gets_not_found(cast: Cast) -> None:
    response = signed_in(cast.outsider).get(AUDIT)
    assert response.status_code == 404
    assert "riverton-survey" not in html(response)


def test_the_outsider_gets_not_found_even_with_a_bad_filter(cast: Cast) -> None:
    assert signed_in(cast.outsider).get(AUDIT, {"since": "yesterday"}).status_code == 404


@pytest.mark.parametrize("role", ["researcher", "citizen_researcher", "partner", "viewer"])
def test_a_role_without_audit_rights_is_refused(cast: Cast, role: str) -> None:
    response = signed_in(cast.by_role(role)).get(AUDIT)
    assert response.status_code == 403
    assert "view_audit_log" in html(response)
    assert "project.create" not in html(response)


def test_a_visitor_is_sent_to_sign_in(cast: Cast) -> None:
    assert Client().get(AUDIT).status_code == 302


def test_a_network_admin_outside_riverton_gets_not_found(cast: Cast) -> None:
    assert signed_in(cast.admin).get(AUDIT).status_code == 404


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"since": "31/01/2025"}, "since", "&#x27;Since&#x27; must be a date"),
        ({"until": "2025-02-30"}, "until", "&#x27;Until&#x27; must be a date"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "until", "&#x27;Until&#x27; must be on"),
        ({"kind": "gossip"}, "kind", "&#x27;Kind&#x27; must be one of"),
        ({"project": "hillside-survey"}, "project", "&#x27;Project&#x27; must be one of"),
        ({"actor": "x" * 151}, "actor", "&#x27;Username&#x27; may be at most 150"),
    ],
)
def test_bad_filter_input_shows_an_error_naming_the_field(
    cast: Cast, params: dict[str, str], field: str, message: str
) -> None:
    response = signed_in(cast.lead).get(AUDIT, params)
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert 'aria-invalid="true"' in page
    assert "Correct the filter to see events." in page
    assert "<tbody>" not in page


def test_the_project_filter_offers_only_this_organisations_projects(cast: Cast) -> None:
    page = html(signed_in(cast.lead).get(AUDIT))
    assert '<option value="riverton-survey">' in page
    assert "hillside-survey" not in page


def test_the_lead_sees_who_did_what_when_and_from_where(cast: Cast) -> None:
    record(
        actor=cast.lead,
        origin=WEB,
        kind=AuditKind.WRITE,
        action="project.edit",
        project=cast.survey,
    )
    page = html(signed_in(cast.lead).get(AUDIT))
    assert "<code>project.edit</code>" in page
    assert "lena" in page
    assert "198.51.100.23" in page
    assert "<td>Riverton survey</td>" in page
    assert "<td>web</td>" in page


def test_the_events_come_newest_first(cast: Cast) -> None:
    _add_events(cast, 1, action="older.event")
    _add_events(cast, 1, action="newer.event")
    page = html(signed_in(cast.lead).get(AUDIT))
    assert page.index("newer.event") < page.index("older.event")


def test_the_action_filter_matches_a_prefix(cast: Cast) -> None:
    _add_events(cast, 2, action="membership.change")
    page = html(signed_in(cast.lead).get(AUDIT, {"action": "membership."}))
    assert "membership.change" in page
    assert "project.create" not in page


def test_the_actor_kind_and_project_filters_narrow_the_list(cast: Cast) -> None:
    _add_events(cast, 3)
    record(
        actor=cast.researcher,
        origin=WEB,
        kind=AuditKind.RAW_READ,
        action="raw.read",
        project=cast.survey,
    )
    client = signed_in(cast.lead)
    by_actor = html(client.get(AUDIT, {"actor": "rami"}))
    assert "raw.read" in by_actor
    assert "sample.event" not in by_actor
    by_kind = html(client.get(AUDIT, {"kind": "raw_read"}))
    assert _rows(by_kind) == 1
    by_project = html(client.get(AUDIT, {"project": "riverton-survey"}))
    assert "raw.read" in by_project
    assert "sample.event" not in by_project


def test_the_date_filters_keep_whole_days(cast: Cast) -> None:
    _add_events(cast, 1, action="january.event")
    AuditEvent.objects.filter(action="january.event").update(
        at=datetime(2025, 1, 15, 23, 59, tzinfo=UTC)
    )
    client = signed_in(cast.lead)
    assert "january.event" in html(
        client.get(AUDIT, {"since": "2025-01-15", "until": "2025-01-15"})
    )
    assert "january.event" not in html(client.get(AUDIT, {"since": "2025-01-16"}))
    assert "january.event" not in html(client.get(AUDIT, {"until": "2025-01-14"}))


def test_the_log_is_paged_fifty_at_a_time_and_keeps_the_filter(cast: Cast) -> None:
    _add_events(cast, 120)
    client = signed_in(cast.lead)
    first = html(client.get(AUDIT, {"action": "sample."}))
    assert _rows(first) == 50
    assert "120 events, newest first (page 1 of 3)" in first
    assert "?action=sample.&amp;page=2" in first
    last = html(client.get(AUDIT, {"action": "sample.", "page": "3"}))
    assert _rows(last) == 20


def test_a_page_number_past_the_end_shows_the_last_page(cast: Cast) -> None:
    _add_events(cast, 60)
    page = html(signed_in(cast.lead).get(AUDIT, {"action": "sample.", "page": "99"}))
    assert "(page 2 of 2)" in page


def test_a_network_admin_reads_their_own_organisations_log(cast: Cast) -> None:
    response = signed_in(cast.admin).get(reverse("web:audit", args=["network"]))
    assert response.status_code == 200
    assert "user.create" in html(response)


def test_the_audit_page_takes_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries
) -> None:
    for _ in range(60):
        record(actor=cast.lead, origin=WEB, kind=AuditKind.WRITE, action="x.y", project=cast.survey)
    client = signed_in(cast.lead)
    # session, user, roles, two-factor check, organisation (twice), projects for the filter,
    # count, page, the header's organisations and the synthetic label
    with django_assert_max_num_queries(11):
        response = client.get(AUDIT)
    assert _rows(html(response)) == 50
