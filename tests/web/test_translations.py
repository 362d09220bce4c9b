"""The interface speaks English, German and Swedish; every catalogue entry is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "src" / "incity" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


@pytest.mark.parametrize("language", ["de", "sv"])
def test_every_interface_string_is_translated_with_its_placeholders(language: str) -> None:
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        catalogue = read_po(po_file, locale=language)
    assert len(catalogue) > 100
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: untranslated {ids[0]!r}"
        assert "fuzzy" not in message.flags, f"{language}: fuzzy {ids[0]!r}"
        expected = sorted(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == expected, f"{language}: {ids[0]!r}"


@pytest.mark.parametrize(
    ("language", "sign_in"), [("de", "Anmelden"), ("sv", "Logga in"), ("en", "Sign in")]
)
def test_the_sign_in_page_is_shown_in_the_chosen_language(
    db: None, language: str, sign_in: str
) -> None:
    response = Client().get("/accounts/login/", headers={"accept-language": language})
    page = response.content.decode()
    assert f'<html lang="{language}" dir="ltr">' in page
    assert sign_in in page


def test_an_unsupported_language_falls_back_to_english(db: None) -> None:
    page = Client().get("/accounts/login/", headers={"accept-language": "tlh"}).content.decode()
    assert '<html lang="en"' in page
