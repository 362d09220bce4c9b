"""Structural accessibility of every page: landmarks, one h1, labelled fields, captioned tables."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.models import User
from tests.personas import Cast, signed_in
from tests.web.pages import html

_UNLABELLED_TYPES = {"hidden", "submit", "button"}


class _Structure(HTMLParser):
    """Collects what the checks below need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.field_ids: list[str] = []
        self.label_targets: set[str] = set()
        self.tables = 0
        self.captions = 0
        self.header_cells_without_scope = 0
        self.dir = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.dir = attributes.get("dir") or ""
        needs_label = attributes.get("type") not in _UNLABELLED_TYPES
        if tag in ("input", "select", "textarea") and needs_label:
            self.field_ids.append(attributes.get("id") or "")
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(attributes["for"] or "")
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1
        if tag == "th" and not attributes.get("scope"):
            self.header_cells_without_scope += 1


def _structure(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    return parser


def _check(page: str) -> None:
    structure = _structure(page)
    assert structure.tags.count("h1") == 1
    assert structure.tags.count("main") == 1
    assert "header" in structure.tags
    assert "nav" in structure.tags
    assert "footer" in structure.tags
    assert structure.dir == "ltr"
    unlabelled = [id_ for id_ in structure.field_ids if id_ not in structure.label_targets]
    assert not unlabelled, f"fields without a label: {unlabelled}"
    assert structure.tables == structure.captions
    assert structure.header_cells_without_scope == 0


LEAD_PAGES = [
    reverse("web:home"),
    reverse("web:organisation", args=["riverton"]),
    reverse("web:project", args=["riverton-survey"]),
    reverse("web:audit", args=["riverton"]),
    reverse("web:audit", args=["riverton"]) + "?since=never",
    reverse("web:members", args=["riverton"]),
    reverse("web:tokens"),
    "/no-such-page",
]


@pytest.mark.parametrize("path", LEAD_PAGES)
def test_each_lead_page_is_structured_for_assistive_technology(cast: Cast, path: str) -> None:
    _check(html(signed_in(cast.lead).get(path)))


def test_the_admin_home_with_the_network_overview_is_structured(cast: Cast) -> None:
    _check(html(signed_in(cast.admin).get(reverse("web:home"))))


def test_the_visitor_home_is_structured(db: None) -> None:
    _check(html(Client().get(reverse("web:home"))))


def test_a_home_without_a_role_is_structured(db: None) -> None:
    _check(html(signed_in(User.objects.create_user(username="loner")).get("/")))


def test_a_form_with_errors_links_each_error_to_its_field(cast: Cast) -> None:
    page = html(signed_in(cast.lead).get(reverse("web:audit", args=["riverton"]), {"since": "x"}))
    assert '<a href="#id_since">' in page
    assert 'aria-describedby="id_since_error"' in page


def test_the_home_with_the_organisation_switcher_is_structured(cast: Cast) -> None:
    page = html(signed_in(cast.researcher).get(reverse("web:home")))
    assert 'for="org-switch"' in page
    _check(page)
