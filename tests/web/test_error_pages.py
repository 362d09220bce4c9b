"""The 403, 404 and 500 pages."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import Client, RequestFactory

from incity.web.views import not_found, server_error
from tests.personas import Cast, signed_in
from tests.web.pages import html


def test_an_unknown_address_does_not_list_the_url_patterns(db: None) -> None:
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    page = html(response)
    assert "Not found" in page
    assert "tried" not in page
    assert "organisations/&lt;slug" not in page


def test_a_forbidden_page_says_why(cast: Cast) -> None:
    response = signed_in(cast.viewer).get("/organisations/riverton/audit/")
    assert response.status_code == 403
    assert "Not allowed" in html(response)
    assert "Your role in Riverton does not allow this (view_audit_log)." in html(response)


def test_the_server_error_page_reads_nothing_from_the_database(
    db: None, django_assert_num_queries
) -> None:
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in html(response)


def test_a_plain_not_found_reason_is_shown(db: None) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = {}
    response = not_found(request, Http404("No such briefing."))
    assert "No such briefing." in html(response)
