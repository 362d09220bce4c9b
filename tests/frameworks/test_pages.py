"""The public web pages: list, framework and crosswalk, readable without signing in."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from incity.frameworks.models import Framework
from tests.personas import Cast, signed_in


def _page(path: str, client: Client | None = None) -> str:
    response = (client or Client()).get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_anyone_can_read_the_list_of_frameworks(db: None) -> None:
    html = _page(reverse("frameworks:list"))

    assert "<h1>Integration frameworks</h1>" in html
    assert 'href="/frameworks/ioi-2019/"' in html
    assert "Spencer &amp; Charsley holistic model" in html
    assert "Inclusive Cities framework" in html
    assert 'href="/frameworks/crosswalks/ioi-2019-to-spencer-charsley-2016/"' in html


def test_the_list_shows_a_citys_own_framework_with_its_owner(riverton_plan: Framework) -> None:
    html = _page(reverse("frameworks:list"))

    assert "Riverton welcome plan" in html
    assert "<td>Riverton</td>" in html


def test_the_ioi_page_shows_headings_domains_definitions_source_and_crosswalks(db: None) -> None:
    html = _page(reverse("frameworks:detail", args=["ioi-2019"]))

    for heading in ("Markers and Means", "Social Connections", "Facilitators", "Foundation"):
        assert re.search(rf"<h3 [^>]*>{heading} ", html), heading
    assert html.count('<tr id="item-') == 14 + 4
    assert "Connections with people from different backgrounds." in html
    assert "HORR109" in html
    assert "Open Government Licence v3.0" in html
    assert "verification-verified" in html
    assert "Indicators of Integration 2019 to Spencer &amp; Charsley domains" in html


def test_the_spencer_charsley_page_marks_effector_levels_as_not_yet_verified(db: None) -> None:
    html = _page(reverse("frameworks:detail", args=["spencer-charsley-2016"]))

    assert "<h2>Effector levels</h2>" in html
    assert html.count("verification-unverified") == 5


def test_the_crosswalk_page_lists_every_link(db: None) -> None:
    html = _page(reverse("frameworks:crosswalk", args=["ioi-2019-to-inclusive-cities-2019"]))

    assert html.count('<th scope="row">') == 22
    assert "Connecting communities" in html
    assert "An analyst&#x27;s mapping" in html


@pytest.mark.parametrize(
    "path",
    [
        "/frameworks/",
        "/frameworks/ioi-2019/",
        "/frameworks/crosswalks/ioi-2019-to-spencer-charsley-2016/",
    ],
)
def test_every_table_has_a_caption_and_scoped_headers(db: None, path: str) -> None:
    html = _page(path)

    tables = re.findall(r"<table>(.*?)</table>", html, flags=re.S)
    assert tables
    for table in tables:
        assert "<caption>" in table
        assert "<th>" not in table


@pytest.mark.parametrize(
    "path", ["/frameworks/no-such-framework/", "/frameworks/crosswalks/no-such-crosswalk/"]
)
def test_unknown_pages_answer_404(db: None, path: str) -> None:
    assert Client().get(path).status_code == 404


def test_the_framework_page_costs_a_fixed_number_of_queries(
    db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    # Framework, items, crosswalks, plus the site-wide synthetic-data check.
    with django_assert_max_num_queries(4):
        Client().get("/frameworks/ioi-2019/")


def test_signed_in_staff_see_the_same_pages(cast: Cast) -> None:
    html = _page("/frameworks/ioi-2019/", signed_in(cast.lead))

    assert "Rights and Responsibilities" in html
