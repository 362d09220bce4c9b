"""The form's languages, and the texts a translator sees and fills in."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from incity.errors import InvalidInput
from incity.surveys.definition import (
    DEFAULT_LANGUAGE_KEY,
    Element,
    FormDefinition,
    LanguageText,
    language_code,
    walk,
)

# Texts a translator sees for each element, in this order.
TEXT_FIELDS: tuple[str, ...] = ("label", "hint", "required_message", "constraint_message")
MAX_LANGUAGE_KEY = 64
MAX_TEXT = 5000
_LANGUAGE_KEY = re.compile(r"^[^\s:()][^:()\n\r\t]*\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)\)$")
# Languages the translate page offers, by code, named in their own language. Keys are
# built as "<own name> (<code>)", the convention of the module library ("Deutsch (de)").
COMMON_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("ar", "العربية"),
    ("fa", "فارسی"),
    ("prs", "دری"),
    ("ps", "پښتو"),
    ("ur", "اردو"),
    ("ckb", "کوردی"),
    ("ku", "Kurdî"),
    ("so", "Soomaali"),
    ("ti", "ትግርኛ"),
    ("am", "አማርኛ"),
    ("tr", "Türkçe"),
    ("pl", "Polski"),
    ("uk", "Українська"),
    ("ru", "Русский"),
    ("ro", "Română"),
    ("bg", "Български"),
    ("sq", "Shqip"),
    ("bs", "Bosanski"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("it", "Italiano"),
    ("en", "English"),
    ("de", "Deutsch"),
    ("sv", "Svenska"),
)


def language_key(code: str) -> str:
    """The form language key for a common language code: 'ar' -> 'العربية (ar)'."""
    names = dict(COMMON_LANGUAGES)
    if code not in names:
        raise InvalidInput(
            "language", f"'{code}' is not in the list of languages; type the key instead."
        )
    return f"{names[code]} ({code})"


@dataclass(frozen=True)
class TranslatableText:
    """One text a translator fills in: where it is, the source and the current translation."""

    key: str
    kind: Literal["element", "choice"]
    owner: str  # element name, or "list_name / choice name"
    field: str
    source: str
    text: str


def strip_languages(definition: FormDefinition) -> None:
    """Drop, in place, every text in a language the form does not have."""
    languages = set(definition["languages"])
    for texts in _each_text(definition):
        for language in [language for language in texts if language not in languages]:
            del texts[language]


def check_language_key(key: str) -> str:
    key = key.strip()
    if not key:
        raise InvalidInput(
            "language", "Write the language as its name and code, like 'العربية (ar)'."
        )
    if len(key) > MAX_LANGUAGE_KEY:
        raise InvalidInput("language", f"A language key has at most {MAX_LANGUAGE_KEY} characters.")
    if key == DEFAULT_LANGUAGE_KEY or not _LANGUAGE_KEY.match(key):
        raise InvalidInput(
            "language",
            f"'{key}' is not a language key: write the name and the code in brackets, "
            "like 'العربية (ar)' or 'Soomaali (so)'.",
        )
    return key


def _each_text(definition: FormDefinition) -> Iterator[LanguageText]:
    for element, _ in walk(definition["children"]):
        for column in TEXT_FIELDS:
            texts = element.get(column)
            if isinstance(texts, dict):
                yield texts
        for media in element.get("media", {}).values():
            yield media
    for choices in definition["choices"].values():
        for choice in choices:
            yield choice.get("label", {})
            for media in choice.get("media", {}).values():
                yield media


def set_languages(definition: FormDefinition, languages: list[str]) -> FormDefinition:
    """The form's languages become `languages`; texts in removed languages are dropped."""
    if not languages:
        raise InvalidInput("languages", "A form needs at least one language.")
    if definition["default_language"] not in languages:
        raise InvalidInput(
            "languages",
            f"'{definition['default_language']}' is the form's default language and cannot "
            "be removed.",
        )
    if len(set(languages)) != len(languages):
        raise InvalidInput("languages", "A language is listed twice.")
    codes: dict[str, str] = {}
    for key in languages:
        if key not in definition["languages"]:
            check_language_key(key)
        code = language_code(key)
        if code and code in codes:
            raise InvalidInput(
                "languages", f"'{key}' and '{codes[code]}' are the same language ({code})."
            )
        if code:
            codes[code] = key
    result = copy.deepcopy(definition)
    result["languages"] = list(languages)
    strip_languages(result)
    return result


def add_language(definition: FormDefinition, key: str) -> FormDefinition:
    key = check_language_key(key)
    if key in definition["languages"]:
        raise InvalidInput("language", f"The form is already in '{key}'.")
    return set_languages(definition, [*definition["languages"], key])


def remove_language(definition: FormDefinition, key: str) -> FormDefinition:
    if key not in definition["languages"]:
        raise InvalidInput("language", f"The form is not in '{key}'.")
    return set_languages(definition, [lang for lang in definition["languages"] if lang != key])


def _text_slots(
    definition: FormDefinition,
) -> Iterator[tuple[str, Literal["element", "choice"], str, str, LanguageText, Callable[[], None]]]:
    """(key, kind, owner, field, texts, attach) for each translatable text, in form order.

    `attach` puts the (possibly new) texts dict into the definition, for fields an
    element does not have yet.
    """
    for element, _ in walk(definition["children"]):
        for column in TEXT_FIELDS:
            existing = element.get(column)
            texts: LanguageText = existing if isinstance(existing, dict) else {}

            def attach(
                element: Element = element, column: str = column, texts: LanguageText = texts
            ) -> None:
                element[column] = texts  # type: ignore[literal-required]

            yield f"{column}:{element['name']}", "element", element["name"], column, texts, attach
    for list_name, choices in definition["choices"].items():
        for choice in choices:
            label = choice.setdefault("label", {})
            yield (
                f"choice:{list_name}:{choice['name']}",
                "choice",
                f"{list_name} / {choice['name']}",
                "label",
                label,
                lambda: None,
            )


def translatable_texts(definition: FormDefinition, language: str) -> list[TranslatableText]:
    """Every text with a source in the default language, and its text in `language`."""
    if language not in definition["languages"]:
        raise InvalidInput("language", f"The form is not in '{language}'; add the language first.")
    default = definition["default_language"]
    found: list[TranslatableText] = []
    for key, kind, owner, column, texts, _ in _text_slots(copy.deepcopy(definition)):
        source = texts.get(default, "")
        if source or texts.get(language):
            found.append(
                TranslatableText(
                    key=key,
                    kind=kind,
                    owner=owner,
                    field=column,
                    source=source,
                    text=texts.get(language, ""),
                )
            )
    return found


def set_translation(
    definition: FormDefinition, language: str, texts: dict[str, str]
) -> FormDefinition:
    """Set the texts of one non-default language, by the keys `translatable_texts` gives.

    An empty text removes that translation; keys the form does not have are refused.
    """
    if language not in definition["languages"]:
        raise InvalidInput("language", f"The form is not in '{language}'; add the language first.")
    if language == definition["default_language"]:
        raise InvalidInput(
            "language",
            f"'{language}' is the default language; change its texts in the builder.",
        )
    result = copy.deepcopy(definition)
    slots = {key: (target, attach) for key, _, _, _, target, attach in _text_slots(result)}
    unknown = sorted(set(texts) - set(slots))
    if unknown:
        raise InvalidInput(
            "texts", "The form has no text " + ", ".join(f"'{key}'" for key in unknown[:5]) + "."
        )
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            raise InvalidInput(key, f"A text has at most {MAX_TEXT} characters.")
        target, attach = slots[key]
        if text.strip():
            target[language] = text.strip()
            attach()
        else:
            target.pop(language, None)
    return result
