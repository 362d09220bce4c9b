"""Generated demo data is labelled: a banner on every page and a tag on each synthetic item."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incity.accounts.models import Organisation, Project
from tests.personas import Cast, signed_in
from tests.web.pages import html

BANNER = 'data-testid="synthetic-banner"'
TAG = 'data-testid="synthetic-tag"'
LEAD_PAGES = [
    reverse("web:home"),
    reverse("web:organisation", args=["riverton"]),
    reverse("web:project", args=["riverton-survey"]),
    reverse("web:audit", args=["riverton"]),
    reverse("web:members", args=["riverton"]),
    reverse("web:tokens"),
    "/no-such-page",
]


@pytest.fixture
def synthetic_riverton(cast: Cast) -> Cast:
    Organisation.objects.filter(pk=cast.riverton.pk).update(is_synthetic=True)
    Project.objects.filter(pk=cast.survey.pk).update(is_synthetic=True)
    return cast


def test_no_banner_without_synthetic_data(cast: Cast) -> None:
    for path in LEAD_PAGES:
        assert BANNER not in html(signed_in(cast.lead).get(path)), path


def test_no_tag_on_a_real_organisation(synthetic_riverton: Cast) -> None:
    page = html(signed_in(synthetic_riverton.outsider).get(reverse("web:home")))
    assert TAG not in page


@pytest.mark.parametrize("path", LEAD_PAGES)
def test_the_banner_appears_on_every_page(synthetic_riverton: Cast, path: str) -> None:
    page = html(signed_in(synthetic_riverton.lead).get(path))
    assert BANNER in page
    assert "synthetic demo data" in page


def test_the_banner_appears_for_visitors_and_outsiders(synthetic_riverton: Cast) -> None:
    assert "synthetic demo data" in html(Client().get(reverse("web:home")))
    assert "synthetic demo data" in html(signed_in(synthetic_riverton.outsider).get("/"))


def test_a_synthetic_organisation_and_project_carry_the_tag(synthetic_riverton: Cast) -> None:
    client = signed_in(synthetic_riverton.lead)
    home = html(client.get(reverse("web:home")))
    assert home.count(TAG) == 2
    project = html(client.get(reverse("web:project", args=["riverton-survey"])))
    assert project.count(TAG) == 2


def test_the_network_overview_tags_the_synthetic_organisation(synthetic_riverton: Cast) -> None:
    page = html(signed_in(synthetic_riverton.admin).get(reverse("web:home")))
    row_start = page.index(">Riverton ")
    assert TAG in page[row_start : page.index("</tr>", row_start)]
    assert page.count(TAG) == 1
