"""The runtime JSON: the published version with its expressions parsed for the app."""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client

from incity.collect.runtime import language_info, parse_to_json
from tests.collect.helpers import app_url, link_for, published_form
from tests.personas import Cast, signed_in

pytestmark = pytest.mark.django_db


def test_a_reference_compared_with_a_number_is_a_chain() -> None:
    assert parse_to_json("${age} >= 16") == {
        "t": "chain",
        "e": {"t": "ref", "n": "age"},
        "r": [[">=", {"t": "lit", "v": 16.0}]],
    }


def test_and_or_and_functions_keep_their_shape() -> None:
    tree = parse_to_json("selected(${barriers}, 'no_time') or not(${age} = 3) and true()")
    assert tree["t"] == "or"
    first, second = tree["a"]
    assert first == {
        "t": "call",
        "f": "selected",
        "a": [{"t": "ref", "n": "barriers"}, {"t": "lit", "v": "no_time"}],
    }
    assert second["t"] == "and"
    assert second["a"][1] == {"t": "call", "f": "true", "a": []}


def test_dot_parent_paths_bare_names_negation_and_unions() -> None:
    assert parse_to_json(". > 0")["e"] == {"t": "cur"}
    assert parse_to_json("position(..)") == {"t": "call", "f": "position", "a": [{"t": "par"}]}
    assert parse_to_json("/data/group/age")["n"] == "age"
    assert parse_to_json("county = ${county}")["e"] == {"t": "bare", "n": "county"}
    assert parse_to_json("--3") == {"t": "neg", "c": 2, "e": {"t": "lit", "v": 3.0}}
    assert parse_to_json("count(${a} | ${b})")["a"][0]["t"] == "union"
    assert parse_to_json("current()") == {"t": "cur"}


def test_an_expression_that_does_not_parse_becomes_an_error_node() -> None:
    tree = parse_to_json("${age} >")
    assert tree["t"] == "error"
    assert "unexpected end" in tree["m"]


def test_languages_carry_code_and_direction() -> None:
    assert language_info("العربية (ar)") == {
        "key": "العربية (ar)",
        "code": "ar",
        "rtl": True,
        "name": "العربية",
    }
    assert language_info("English (en)")["rtl"] is False


def test_anonymous_visitors_without_a_link_get_401(cast: Cast) -> None:
    form = published_form(cast)
    response = Client().get(app_url(form, "runtime.json"))
    assert response.status_code == 401


def test_other_tenants_get_not_found_and_viewers_forbidden(cast: Cast) -> None:
    form = published_form(cast)
    assert signed_in(cast.outsider).get(app_url(form, "runtime.json")).status_code == 404
    assert signed_in(cast.viewer).get(app_url(form, "runtime.json")).status_code == 403
    assert Client().get(app_url(form, "runtime.json?link=nope")).status_code == 404


def test_the_runtime_holds_the_definition_expressions_consent_and_map(cast: Cast) -> None:
    form = published_form(cast)
    response = signed_in(cast.fieldworker).get(app_url(form, "runtime.json"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "form",
        "definition",
        "languages",
        "default_language",
        "expressions",
        "consent",
        "map",
    }
    assert body["form"]["version"] == 1
    assert body["form"]["public"] is False
    assert body["definition"]["form_id"] == "household"
    assert [language["code"] for language in body["languages"]] == ["en", "de"]
    rent = "${tenure} = 'private_rent' or ${tenure} = 'social_rent'"
    assert body["expressions"][rent]["t"] == "or"
    assert body["expressions"][". >= 16 and . <= 120"]["t"] == "and"
    assert body["consent"]["required"] is True
    assert body["consent"]["sheet"]["English (en)"].startswith("Synthetic test information")


def test_the_public_runtime_says_so_and_is_compressed(cast: Cast) -> None:
    form = published_form(cast)
    link = link_for(cast, form)
    response = Client().get(
        app_url(form, f"runtime.json?link={link.token}"), HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert body["form"]["public"] is True
