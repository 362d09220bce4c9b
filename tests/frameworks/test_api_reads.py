"""Reading frameworks and crosswalks through the API: open to anyone, in a fixed number of queries."""

from __future__ import annotations

from django.test import Client
from pytest_django import DjangoAssertNumQueries

from incity.frameworks import services
from incity.frameworks.models import Framework
from tests.personas import SYSTEM, Cast, bearer

API = "/api/v1/frameworks"


def test_anyone_can_list_the_frameworks_without_signing_in(
    db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(1):
        response = Client().get(API)

    assert response.status_code == 200, response.content
    slugs = [f["slug"] for f in response.json()]
    assert {"ioi-2019", "spencer-charsley-2016", "inclusive-cities-2019"} <= set(slugs)


def test_the_list_costs_one_query_however_many_owned_frameworks_there_are(
    cast: Cast, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(5):
        services.create_custom_framework(
            acting_user=None, origin=SYSTEM, slug=f"plan-{n}", name=f"Plan {n}", owner=cast.riverton
        )

    with django_assert_max_num_queries(1):
        response = Client().get(API)

    assert {f["owner"] for f in response.json()} == {None, "riverton"}


def test_anyone_reads_ioi_as_four_headings_holding_fourteen_domains(
    db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(3):
        response = Client().get(f"{API}/ioi-2019")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [h["slug"] for h in body["headings"]] == [
        "markers_means",
        "social_connections",
        "facilitators",
        "foundation",
    ]
    assert sum(len(h["children"]) for h in body["headings"]) == 14
    assert [i["kind"] for i in body["items"]] == ["principle"] * 4
    assert {c["slug"] for c in body["crosswalks"]} == {
        "ioi-2019-to-spencer-charsley-2016",
        "ioi-2019-to-inclusive-cities-2019",
    }
    bonds = body["headings"][1]["children"][0]
    assert bonds["definition"] == "Connections with those you share a sense of identity with."


def test_a_framework_without_headings_lists_its_items_by_kind(db: None) -> None:
    body = Client().get(f"{API}/spencer-charsley-2016").json()

    assert body["headings"] == []
    kinds = [i["kind"] for i in body["items"]]
    assert kinds == ["domain"] * 5 + ["principle"] * 5 + ["effector_level"] * 5


def test_a_city_owned_framework_is_public_too(riverton_plan: Framework) -> None:
    response = Client().get(f"{API}/riverton-plan")

    assert response.status_code == 200
    assert response.json()["owner"] == "riverton"
    assert response.json()["headings"][0]["children"][0]["slug"] == "belonging"


def test_an_unknown_framework_answers_404_in_the_error_shape(db: None) -> None:
    response = Client().get(f"{API}/no-such-framework")

    assert response.status_code == 404
    assert response.json() == {
        "message": "No framework 'no-such-framework'.",
        "extra": {"framework": "no-such-framework"},
    }


def test_anyone_can_list_the_crosswalks_in_one_query(
    db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(1):
        response = Client().get(f"{API}/crosswalks/")

    assert response.status_code == 200
    assert {c["slug"] for c in response.json()} >= {
        "ioi-2019-to-spencer-charsley-2016",
        "ioi-2019-to-inclusive-cities-2019",
        "spencer-charsley-2016-to-inclusive-cities-2019",
    }


def test_anyone_reads_a_crosswalk_with_its_links_in_two_queries(
    db: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_max_num_queries(2):
        response = Client().get(f"{API}/crosswalks/ioi-2019-to-spencer-charsley-2016")

    assert response.status_code == 200
    body = response.json()
    assert len(body["links"]) == 14
    assert body["links"][0] == {
        "source": "work",
        "source_name": "Work",
        "target": "structural",
        "target_name": "Structural",
        "relation": "broader",
        "note": "",
    }


def test_an_unknown_crosswalk_answers_404(db: None) -> None:
    response = Client().get(f"{API}/crosswalks/nowhere")

    assert response.status_code == 404
    assert response.json()["extra"] == {"crosswalk": "nowhere"}


def test_a_bad_token_on_a_public_read_is_ignored_rather_than_refused(cast: Cast) -> None:
    # Reads take no authentication at all, so a stale token cannot lock anyone out of them.
    response = Client().get(API, headers={"Authorization": "Bearer inc_nonsense"})

    assert response.status_code == 200


def test_signed_in_people_read_the_same_list(cast: Cast) -> None:
    anonymous = Client().get(API).json()

    assert Client().get(API, headers=bearer(cast.viewer)).json() == anonymous
