"""The module library: short, reusable sets of survey questions, and forms built from them.

A module is a JSON file in `data/modules/<slug>.json`:

    {"slug": "housing", "notes": "where the wording comes from ...",
     "title": {lang: text}, "description": {lang: text}, "version": "1",
     "languages": ["English (en)", "Deutsch (de)", "Svenska (sv)"],
     "children": [<element>, ...], "choices": {list_name: [<choice>, ...]}}

Its elements have exactly the shape of `definition.py`. Every question carries
`tags.domains` (framework domains from the catalogue) and `tags.module`, and
names are unique across all modules (each module prefixes its own, e.g. `hou_`),
so any set of modules can be combined in one form. A choice list that several
modules use (`yes_no_pns`, `agree_scale` ...) has the same name and identical
content in each of them.

`compose_definition()` builds a form definition from chosen modules, each
wrapped in a group named after the module, so the form builder can reorder or
remove a module as a unit. `check_module()` lists what is wrong with a module;
the test suite runs it on every shipped file.

To add a module: write `data/modules/<slug>.json` (prefix every name, tag every
question, give every text in all of `REQUIRED_LANGUAGES`), add the slug to
`MODULE_ORDER`, and run `pytest tests/surveys/test_modules.py`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from incity.errors import InvalidInput, NotFound
from incity.surveys import expressions
from incity.surveys.definition import (
    ELEMENT_TYPES,
    NAME_PATTERN,
    SELECT_TYPES,
    STRUCTURE_TYPES,
    Element,
    FormDefinition,
    LanguageText,
    element_kind,
)

MODULES_DIR = Path(__file__).resolve().parent / "data" / "modules"
DEFAULT_LANGUAGE = "English (en)"
# Every shipped module is written in these; a module may add more.
REQUIRED_LANGUAGES: tuple[str, ...] = ("English (en)", "Deutsch (de)", "Svenska (sv)")

# The order the library lists modules in, which is also a sensible order for a form:
# the place (housing, neighbourhood, safety) before people and institutions, and
# `background` last. Personal and migration-status questions come at the end of a
# survey, once the respondent has seen what it is about and can judge whether to
# answer them; asking them first costs trust and answers. Modules not listed here
# come after the listed topical ones, alphabetically, and still before `background`.
MODULE_ORDER: tuple[str, ...] = (
    "housing",
    "neighbourhood",
    "safety",
    "connections",
    "participation",
    "services",
    "identity",
    "work",
    "language",
    "background",
)
_LAST = "background"

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Framework items a question may be tagged with: domains, and Inclusive Cities' themes.
_TAGGABLE_KINDS = frozenset({"domain", "theme"})
# Types whose choices come from `choices[list_name]`.
_LISTED = frozenset({"select_one", "select_multiple", "rank", "map_marks"})
_TEXT_FIELDS = ("label", "hint", "required_message", "constraint_message")
_EXPRESSION_FIELDS = ("relevant", "constraint", "calculation", "choice_filter", "repeat_count")


class ModuleDataError(ValueError):
    """A shipped module file is broken or clashes with another: a bug in incity, not user input."""


@dataclass(frozen=True)
class ModuleInfo:
    slug: str
    title: LanguageText
    description: LanguageText
    version: str
    languages: tuple[str, ...]
    question_count: int
    domains: tuple[str, ...]  # sorted, every domain any of its questions is tagged with


# -- reading the files


@cache
def _modules() -> dict[str, dict[str, Any]]:
    """Every shipped module by slug, read once. Callers must not mutate what they get."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(MODULES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("slug") != path.stem:
            raise ModuleDataError(f"{path.name}: the module's slug must be '{path.stem}'.")
        found[path.stem] = data
    return found


def _order_key(slug: str) -> tuple[bool, int, str]:
    position = MODULE_ORDER.index(slug) if slug in MODULE_ORDER else len(MODULE_ORDER)
    return (slug == _LAST, position, slug)


def _available() -> list[str]:
    return sorted(_modules(), key=_order_key)


@cache
def _domain_ids() -> frozenset[str]:
    # Imported here: the catalogue module imports the frameworks models, which need
    # Django's app registry, and this module is also used outside a running app.
    from incity.frameworks.catalogue import read_catalogue

    return frozenset(
        f"{framework.slug}:{item.slug}"
        for framework in read_catalogue().frameworks
        for item in framework.items
        if item.kind in _TAGGABLE_KINDS
    )


def _walk(elements: Any) -> Iterator[Mapping[str, Any]]:
    """Every element (mappings only) depth-first; tolerant of malformed data."""
    if not isinstance(elements, list):
        return
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        yield element
        if element.get("type") in STRUCTURE_TYPES:
            yield from _walk(element.get("children"))


def _is_question(element: Mapping[str, Any]) -> bool:
    kind = element.get("type")
    return isinstance(kind, str) and kind in ELEMENT_TYPES and element_kind(kind) == "input"


def _questions(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [element for element in _walk(data.get("children")) if _is_question(element)]


def _info(data: Mapping[str, Any]) -> ModuleInfo:
    questions = _questions(data)
    domains = {
        domain
        for element in questions
        for domain in element.get("tags", {}).get("domains", [])
        if isinstance(domain, str)
    }
    return ModuleInfo(
        slug=data["slug"],
        title=dict(data["title"]),
        description=dict(data["description"]),
        version=str(data["version"]),
        languages=tuple(data["languages"]),
        question_count=len(questions),
        domains=tuple(sorted(domains)),
    )


# -- the library


def list_modules() -> list[ModuleInfo]:
    """Every module in the library, in `MODULE_ORDER` (background last)."""
    return [_info(_modules()[slug]) for slug in _available()]


def get_module(slug: str) -> dict[str, Any]:
    """A module's full content (a copy the caller may change)."""
    data = _modules().get(slug)
    if data is None:
        raise NotFound(
            f"There is no survey module '{slug}'. Available modules: {', '.join(_available())}.",
            slug=slug,
            available=_available(),
        )
    return copy.deepcopy(data)


# -- composing a form


def compose_definition(
    *,
    form_id: str,
    title: str,
    module_slugs: list[str],
    languages: list[str] | None = None,
) -> FormDefinition:
    """A form definition holding the chosen modules in the order given.

    Each module becomes a group named after its slug and labelled with its title.
    Choice lists are merged: a list several modules share appears once. The form
    is in `languages` (every chosen module must have them; default: the languages
    all chosen modules have), and texts in other languages are left out. The
    default language is English where the form has it, else the first language.
    """
    slugs = _checked_slugs(module_slugs)
    chosen = [_modules()[slug] for slug in slugs]
    form_languages = _checked_languages(chosen, languages)
    if not form_id or not NAME_PATTERN.match(form_id):
        raise InvalidInput(
            "form_id",
            f"'{form_id}' is not a valid form id: start with a letter or '_' and use only "
            "letters, digits, '_', '.' and '-'.",
        )
    if not title.strip():
        raise InvalidInput("title", "Give the form a title.")

    children: list[Element] = []
    choices: dict[str, list[Any]] = {}
    owner: dict[str, str] = {}  # list name -> the first module that brought it
    for data in chosen:
        slug = data["slug"]
        group: dict[str, Any] = {
            "type": "group",
            "name": slug,
            "label": _only(data["title"], form_languages),
            "tags": {"module": slug},
            "children": [_localised(element, form_languages) for element in data["children"]],
        }
        children.append(cast(Element, group))
        for list_name, entries in data["choices"].items():
            if list_name in choices:
                if entries != _modules()[owner[list_name]]["choices"][list_name]:
                    raise ModuleDataError(
                        f"The modules '{owner[list_name]}' and '{slug}' both define the choice "
                        f"list '{list_name}', differently."
                    )
                continue
            owner[list_name] = slug
            choices[list_name] = [_localised_choice(entry, form_languages) for entry in entries]

    _refuse_name_clashes(children)
    definition: dict[str, Any] = {
        "form_id": form_id,
        "title": title,
        "default_language": (
            DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in form_languages else form_languages[0]
        ),
        "languages": form_languages,
        "children": children,
        "choices": choices,
    }
    return cast(FormDefinition, definition)


def _checked_slugs(module_slugs: list[str]) -> list[str]:
    if not module_slugs:
        raise InvalidInput(
            "module_slugs",
            f"Choose at least one module. Available modules: {', '.join(_available())}.",
        )
    seen: set[str] = set()
    for slug in module_slugs:
        if slug not in _modules():
            raise InvalidInput(
                "module_slugs",
                f"There is no survey module '{slug}'. Available modules: "
                f"{', '.join(_available())}.",
                slug=slug,
            )
        if slug in seen:
            raise InvalidInput(
                "module_slugs",
                f"The module '{slug}' is chosen twice; a form can hold each module once.",
                slug=slug,
            )
        seen.add(slug)
    return list(module_slugs)


def _checked_languages(chosen: list[dict[str, Any]], languages: list[str] | None) -> list[str]:
    if languages is None:
        first = chosen[0]["languages"]
        common = [lang for lang in first if all(lang in data["languages"] for data in chosen)]
        if not common:
            raise InvalidInput(
                "languages", "The chosen modules have no language in common; choose fewer."
            )
        return common
    if not languages:
        raise InvalidInput("languages", "Choose at least one language for the form.")
    if len(set(languages)) != len(languages):
        raise InvalidInput("languages", "A language is listed twice.")
    for language in languages:
        for data in chosen:
            if language not in data["languages"]:
                raise InvalidInput(
                    "languages",
                    f"The module '{data['slug']}' is not available in '{language}'; it has "
                    f"{', '.join(data['languages'])}.",
                    language=language,
                    module=data["slug"],
                )
    return list(languages)


def _only(texts: Mapping[str, str], languages: list[str]) -> dict[str, str]:
    return {language: texts[language] for language in languages if language in texts}


def _localised(element: Mapping[str, Any], languages: list[str]) -> Element:
    """A deep copy of `element` with its texts cut down to `languages`."""
    copied: dict[str, Any] = copy.deepcopy(dict(element))
    for field in _TEXT_FIELDS:
        if isinstance(copied.get(field), Mapping):
            copied[field] = _only(copied[field], languages)
    if isinstance(copied.get("children"), list):
        copied["children"] = [_localised(child, languages) for child in copied["children"]]
    return cast(Element, copied)


def _localised_choice(choice: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(dict(choice))
    copied["label"] = _only(copied.get("label", {}), languages)
    return copied


def _refuse_name_clashes(children: list[Element]) -> None:
    seen: set[str] = set()
    for element in _walk(children):
        name = element.get("name")
        if name in seen:
            raise ModuleDataError(f"Two elements of the composed form are both called '{name}'.")
        if isinstance(name, str):
            seen.add(name)


# -- checking a module


def check_module(data: Mapping[str, Any]) -> list[str]:
    """Every problem with a module's content, each a sentence naming where it is.

    Checks the shape of the file, that every question is tagged with at least one
    known framework domain and with this module's slug, that every text is given in
    every language the module declares (and those include `REQUIRED_LANGUAGES`), that
    every choice list a question names exists (and every list is used), that
    expressions refer only to this module's own questions, and that no name or
    choice list clashes with another shipped module.
    """
    return _ModuleChecker(data).run()


class _ModuleChecker:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []
        slug = data.get("slug") if isinstance(data, Mapping) else None
        self.slug = slug if isinstance(slug, str) else ""
        languages = data.get("languages") if isinstance(data, Mapping) else None
        self.languages: list[str] = (
            [lang for lang in languages if isinstance(lang, str)]
            if isinstance(languages, list)
            else []
        )
        choices = data.get("choices") if isinstance(data, Mapping) else None
        self.choices: Mapping[str, Any] = choices if isinstance(choices, Mapping) else {}

    def add(self, message: str) -> None:
        self.problems.append(message)

    def run(self) -> list[str]:
        if not isinstance(self.data, Mapping):
            return ["The module must be a JSON object."]
        self.check_header()
        names = self.check_elements()
        if self.slug in names:
            self.add(f"{self.slug} (name): the module's group takes its slug as name; rename it.")
        self.check_choices()
        self.check_against_other_modules(names)
        return self.problems

    def check_header(self) -> None:
        if not _SLUG.match(self.slug):
            self.add(f"slug: {self.slug!r} is not a slug (lowercase letters, digits and '_').")
        if not isinstance(self.data.get("version"), str) or not self.data["version"]:
            self.add('version: give the module\'s version as text, e.g. "1".')
        if not self.languages:
            self.add("languages: list the languages the module is written in.")
        for language in REQUIRED_LANGUAGES:
            if self.languages and language not in self.languages:
                self.add(f"languages: '{language}' is missing; every module is written in it.")
        self.check_texts("the module", "title", self.data.get("title"), required=True)
        self.check_texts("the module", "description", self.data.get("description"), required=True)
        if not isinstance(self.data.get("children"), list) or not self.data["children"]:
            self.add("children: the module has no questions.")

    def check_texts(self, where: str, field: str, texts: Any, *, required: bool) -> None:
        if texts is None or texts == {}:
            if required:
                self.add(f"{where} ({field}): no text given.")
            return
        if not isinstance(texts, Mapping):
            self.add(f"{where} ({field}): must map languages to texts.")
            return
        for language in self.languages:
            text = texts.get(language)
            if not isinstance(text, str) or not text.strip():
                self.add(f"{where} ({field}): no text in '{language}'.")
        for language in texts:
            if language not in self.languages:
                self.add(f"{where} ({field}): '{language}' is not one of the module's languages.")

    def check_elements(self) -> set[str]:
        elements = list(_walk(self.data.get("children")))
        names = {e["name"] for e in elements if isinstance(e.get("name"), str)}
        seen: set[str] = set()
        for element in elements:
            name = element.get("name")
            where = name if isinstance(name, str) and name else "(unnamed element)"
            kind = element.get("type")
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.add(f"{where} (name): {name!r} is not a valid name.")
            elif name in seen:
                self.add(f"{where} (name): another element of the module has this name.")
            seen.add(str(name))
            if not isinstance(kind, str) or kind not in ELEMENT_TYPES:
                self.add(f"{where} (type): unknown type {kind!r}.")
                continue
            self.check_element(element, where, kind, names)
        return names

    def check_element(
        self, element: Mapping[str, Any], where: str, kind: str, names: set[str]
    ) -> None:
        question = _is_question(element)
        self.check_texts(where, "label", element.get("label"), required=kind != "group")
        self.check_texts(where, "hint", element.get("hint"), required=False)
        if element.get("constraint"):
            self.check_texts(
                where, "constraint_message", element.get("constraint_message"), required=True
            )
        if element.get("required"):
            self.check_texts(
                where, "required_message", element.get("required_message"), required=False
            )
        list_name = element.get("list_name", "")
        if kind in _LISTED:
            if not isinstance(list_name, str) or not list_name:
                self.add(f"{where} (list_name): a {kind} question needs a choice list.")
            elif list_name not in self.choices:
                self.add(f"{where} (list_name): the choice list '{list_name}' does not exist.")
        elif kind in SELECT_TYPES:
            self.add(f"{where} (type): modules cannot use {kind}; it needs a file of choices.")
        for field in _EXPRESSION_FIELDS:
            self.check_expression(where, field, element.get(field, ""), names)
        tags = element.get("tags", {})
        if not isinstance(tags, Mapping):
            self.add(f"{where} (tags): must be an object.")
            return
        if question:
            self.check_tags(where, tags)

    def check_expression(self, where: str, field: str, text: Any, names: set[str]) -> None:
        if not text:
            return
        if not isinstance(text, str):
            self.add(f"{where} ({field}): must be text.")
            return
        try:
            referenced = expressions.references(text)
        except expressions.ExpressionError as error:
            self.add(f"{where} ({field}): cannot read the expression: {error}.")
            return
        for missing in sorted(referenced - names):
            self.add(
                f"{where} ({field}): refers to ${{{missing}}}, which is not in this module "
                "(a module must work on its own)."
            )

    def check_tags(self, where: str, tags: Mapping[str, Any]) -> None:
        domains = tags.get("domains")
        if not isinstance(domains, list) or not domains:
            self.add(f"{where} (tags.domains): tag the question with at least one domain.")
        else:
            known = _domain_ids()
            for domain in domains:
                if domain not in known:
                    self.add(
                        f"{where} (tags.domains): '{domain}' is not a framework domain "
                        "(write 'framework-slug:item-slug', e.g. 'ioi-2019:housing')."
                    )
        if tags.get("module") != self.slug:
            self.add(f"{where} (tags.module): must be '{self.slug}', not {tags.get('module')!r}.")
        if "sensitive" in tags and not isinstance(tags["sensitive"], bool):
            self.add(f"{where} (tags.sensitive): must be true or false.")
        if tags.get("source_variable") and not tags.get("source_survey"):
            self.add(f"{where} (tags.source_variable): name the source_survey it comes from.")
        for field in ("source_survey", "source_variable"):
            if field in tags and (not isinstance(tags[field], str) or not tags[field].strip()):
                self.add(f"{where} (tags.{field}): must be text; leave it out when unknown.")

    def check_choices(self) -> None:
        if not isinstance(self.data.get("choices"), Mapping):
            self.add("choices: must map list names to lists of choices.")
            return
        used = {
            element.get("list_name")
            for element in _walk(self.data.get("children"))
            if element.get("type") in _LISTED
        }
        for list_name, entries in self.choices.items():
            where = f"choice list '{list_name}'"
            if list_name not in used:
                self.add(f"{where}: no question uses it.")
            if not isinstance(entries, list) or not entries:
                self.add(f"{where}: must be a non-empty list of choices.")
                continue
            seen: set[str] = set()
            for position, choice in enumerate(entries, start=1):
                name = choice.get("name") if isinstance(choice, Mapping) else None
                if not isinstance(name, str) or not _CHOICE_NAME.match(name):
                    self.add(f"{where}: choice {position} needs a snake_case name, not {name!r}.")
                    continue
                if name in seen:
                    self.add(f"{where}: the choice '{name}' appears twice.")
                seen.add(name)
                label = choice.get("label") if isinstance(choice, Mapping) else None
                self.check_texts(f"{where}, choice '{name}'", "label", label, required=True)

    def check_against_other_modules(self, names: set[str]) -> None:
        for other_slug, other in _modules().items():
            if other_slug == self.slug:
                continue
            other_names = {e.get("name") for e in _walk(other.get("children"))}
            for name in sorted(names & other_names):
                self.add(f"{name} (name): the module '{other_slug}' already uses this name.")
            if self.slug and (self.slug in other_names or other_slug in names):
                self.add(
                    f"slug: a group named after a module would clash with a name in '{other_slug}'."
                )
            for list_name, entries in self.choices.items():
                theirs = other.get("choices", {}).get(list_name)
                if theirs is not None and theirs != entries:
                    self.add(
                        f"choice list '{list_name}': the module '{other_slug}' has a list of "
                        "this name with different content; share identical lists or rename it."
                    )
