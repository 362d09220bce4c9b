"""Draft editing for the form builder: pure functions from a FormDefinition to a new one.

Each function takes a definition, never changes it, and returns an edited deep
copy, or raises `InvalidInput` naming the field and saying what to do instead.
The pages save the result with `services.forms.update_draft`, which runs the
full form check; the refusals here are the ones a person editing one element
can act on (a name taken, a reference to a question that does not exist, a
language key without a code).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from incity.errors import InvalidInput
from incity.surveys import expressions
from incity.surveys.definition import (
    BUILDER_TYPES,
    COMPUTED_TYPES,
    DEFAULT_LANGUAGE_KEY,
    METADATA_TYPES,
    NAME_PATTERN,
    SELECT_TYPES,
    STRUCTURE_TYPES,
    Choice,
    Element,
    FormDefinition,
    LanguageText,
    language_code,
    walk,
)
from incity.surveys.formcheck import is_dynamic_default

Direction = Literal["up", "down"]
# Expression columns of an element, in the order the builder shows them.
EXPRESSION_FIELDS: tuple[str, ...] = (
    "relevant",
    "constraint",
    "calculation",
    "default",
    "choice_filter",
    "repeat_count",
)
# Texts a translator sees for each element, in this order.
TEXT_FIELDS: tuple[str, ...] = ("label", "hint", "required_message", "constraint_message")
LIST_TYPES: frozenset[str] = frozenset({"select_one", "select_multiple", "rank", "map_marks"})
# The category list a map_marks question uses when none is chosen (as the modules name it).
DEFAULT_MARK_LIST = "mark_category"
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
class QuestionSpec:
    """What the builder's question form collects. Texts are keyed by form language."""

    type: str
    name: str
    label: LanguageText = field(default_factory=dict)
    hint: LanguageText = field(default_factory=dict)
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: LanguageText = field(default_factory=dict)
    default: str = ""
    calculation: str = ""
    choice_filter: str = ""
    repeat_count: str = ""
    # An existing choice list; `new_choices` written with it replace its choices.
    list_name: str = ""
    # Choices one per line, "name | label" (the label in the default language).
    new_choices: str = ""
    # The name of the list `new_choices` make when no list is chosen (else the question's name).
    new_list_name: str = ""
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranslatableText:
    """One text a translator fills in: where it is, the source and the current translation."""

    key: str
    kind: Literal["element", "choice"]
    owner: str  # element name, or "list_name / choice name"
    field: str
    source: str
    text: str


# --- finding elements ----------------------------------------------------------------


def _locate(children: list[Element], name: str) -> tuple[list[Element], int] | None:
    for index, element in enumerate(children):
        if element["name"] == name:
            return children, index
        if element["type"] in STRUCTURE_TYPES:
            found = _locate(element.get("children", []), name)
            if found is not None:
                return found
    return None


def _find(definition: FormDefinition, name: str) -> tuple[list[Element], int]:
    found = _locate(definition["children"], name)
    if found is None:
        raise InvalidInput("name", f"The form has no element named '{name}'.")
    return found


def element_named(definition: FormDefinition, name: str) -> Element:
    siblings, index = _find(definition, name)
    return siblings[index]


def _names(definition: FormDefinition) -> set[str]:
    return {element["name"] for element, _ in walk(definition["children"])}


def _expressions_of(element: Element) -> Iterator[tuple[str, str]]:
    for column in EXPRESSION_FIELDS:
        value = str(element.get(column, "") or "")
        if value:
            yield column, value


def _references(expression: str) -> frozenset[str]:
    try:
        return expressions.references(expression)
    except expressions.ExpressionError:
        return frozenset()


def _referrers(definition: FormDefinition, names: set[str]) -> list[str]:
    """Elements outside `names` whose expressions refer to one of `names`."""
    found: list[str] = []
    for element, _ in walk(definition["children"]):
        if element["name"] in names:
            continue
        if any(_references(value) & names for _, value in _expressions_of(element)):
            found.append(element["name"])
    return found


def _free_name(definition: FormDefinition, wanted: str) -> str:
    taken = _names(definition)
    name, number = wanted, 2
    while name in taken:
        name, number = f"{wanted}_{number}", number + 1
    return name


def _subtree_names(element: Element) -> set[str]:
    return {element["name"]} | {child["name"] for child, _ in walk(element.get("children", []))}


def _used_lists(definition: FormDefinition) -> set[str]:
    return {
        element.get("list_name", "")
        for element, _ in walk(definition["children"])
        if element.get("list_name")
    }


# --- modules ------------------------------------------------------------------------


def _strip_languages(definition: FormDefinition) -> None:
    """Drop, in place, every text in a language the form does not have."""
    languages = set(definition["languages"])
    for texts in _each_text(definition):
        for language in [language for language in texts if language not in languages]:
            del texts[language]


def add_module_group(definition: FormDefinition, module: FormDefinition) -> FormDefinition:
    """Append the groups of a composed module definition (one module) to the form.

    Texts in languages the form does not have are dropped; choice lists the
    module shares with the form must hold the same choices.
    """
    result = copy.deepcopy(definition)
    addition = copy.deepcopy(module)
    if not addition["children"]:
        raise InvalidInput("module", "The module has no questions to add.")
    present_modules = {
        element.get("tags", {}).get("module", "")
        for element, _ in walk(result["children"])
        if element["type"] in STRUCTURE_TYPES
    }
    for element in addition["children"]:
        slug = element.get("tags", {}).get("module", "")
        if slug and slug in present_modules:
            raise InvalidInput("module", f"The module '{slug}' is already in the form.")
    taken = _names(result) & _names(addition)
    if taken:
        raise InvalidInput(
            "module",
            "The form already has elements named "
            + ", ".join(sorted(taken))
            + "; rename or remove them before adding this module.",
        )
    for list_name, choices in addition["choices"].items():
        existing = result["choices"].get(list_name)
        if existing is None:
            result["choices"][list_name] = choices
        elif [c["name"] for c in existing] != [c["name"] for c in choices]:
            raise InvalidInput(
                "module",
                f"The form's choice list '{list_name}' differs from the module's list of the "
                "same name; rename the form's list before adding this module.",
            )
    result["children"].extend(addition["children"])
    _strip_languages(result)
    return result


# --- questions ----------------------------------------------------------------------


def _check_name(definition: FormDefinition, name: str, *, current: str | None = None) -> None:
    if not name:
        raise InvalidInput("name", "Give the question a name (letters, digits and _).")
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            "name",
            f"'{name}' cannot be a name: start with a letter or _, then use only letters, "
            "digits, _, - and . (no spaces).",
        )
    if len(name) > 100:
        raise InvalidInput("name", "A name has at most 100 characters.")
    if name != current and name in _names(definition):
        raise InvalidInput("name", f"The form already has an element named '{name}'.")


def _check_texts(definition: FormDefinition, column: str, texts: LanguageText) -> LanguageText:
    cleaned: LanguageText = {}
    for language, text in texts.items():
        if language not in definition["languages"]:
            raise InvalidInput(
                column, f"'{language}' is not one of the form's languages; add it first."
            )
        if len(text) > MAX_TEXT:
            raise InvalidInput(column, f"A {column} has at most {MAX_TEXT} characters.")
        if text.strip():
            cleaned[language] = text.strip()
    return cleaned


def _check_expression(definition: FormDefinition, column: str, value: str, name: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        expressions.check(value)
        referenced = expressions.references(value)
    except expressions.ExpressionError as error:
        raise InvalidInput(column, f"The {column} expression cannot be read: {error}") from None
    unknown = sorted(referenced - _names(definition) - {name})
    if unknown:
        raise InvalidInput(
            column,
            f"The {column} expression refers to "
            + ", ".join(f"${{{n}}}" for n in unknown)
            + ", which the form does not have.",
        )
    if column == "relevant" and name in referenced:
        raise InvalidInput("relevant", "A question cannot depend on its own answer to be shown.")
    return value


def parse_choices(text: str, default_language: str) -> list[Choice]:
    """Choices written one per line as 'name | label' (the label in the default language)."""
    choices: list[Choice] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if "|" not in line:
            raise InvalidInput(
                "new_choices", f"Line {number}: write each choice as 'name | label'."
            )
        name, label = (part.strip() for part in line.split("|", 1))
        if not name or not NAME_PATTERN.match(name):
            raise InvalidInput(
                "new_choices",
                f"Line {number}: '{name}' cannot be a choice name: use letters, digits and _ "
                "without spaces.",
            )
        if name in seen:
            raise InvalidInput("new_choices", f"Line {number}: the choice '{name}' is there twice.")
        if not label:
            raise InvalidInput("new_choices", f"Line {number}: the choice '{name}' has no label.")
        seen.add(name)
        choices.append({"name": name, "label": {default_language: label}})
    if not choices:
        raise InvalidInput(
            "new_choices", "Write at least one choice, one per line: 'name | label'."
        )
    return choices


def _merged(old: list[Choice], new: list[Choice]) -> list[Choice]:
    """New choices keeping the other languages' labels of choices with the same name."""
    before = {choice["name"]: choice for choice in old}
    merged: list[Choice] = []
    for choice in new:
        previous = before.get(choice["name"])
        if previous is not None:
            kept = copy.deepcopy(previous)
            kept["label"] = {**previous.get("label", {}), **choice["label"]}
            merged.append(kept)
        else:
            merged.append(choice)
    return merged


def _choice_list(result: FormDefinition, spec: QuestionSpec) -> str:
    """The list the question uses: a chosen one (rewritten if choices are written) or a new one."""
    chosen = spec.list_name.strip()
    written = spec.new_choices.strip()
    if chosen:
        if chosen not in result["choices"]:
            raise InvalidInput("list_name", f"The form has no choice list '{chosen}'.")
        if written:
            new = parse_choices(written, result["default_language"])
            result["choices"][chosen] = _merged(result["choices"][chosen], new)
        return chosen
    if not written:
        if spec.type == "map_marks" and DEFAULT_MARK_LIST in result["choices"]:
            return DEFAULT_MARK_LIST
        what = "categories" if spec.type == "map_marks" else "choices"
        raise InvalidInput(
            "new_choices",
            f"Pick one of the form's choice lists, or write the {what} one per line.",
        )
    name = spec.new_list_name.strip() or spec.name
    if not NAME_PATTERN.match(name):
        raise InvalidInput("new_list_name", f"'{name}' cannot be the name of a choice list.")
    if name in result["choices"]:
        raise InvalidInput(
            "new_list_name",
            f"The form already has a choice list '{name}'; pick it from the lists, or give "
            "the new list another name.",
        )
    result["choices"][name] = parse_choices(written, result["default_language"])
    return name


def _build(result: FormDefinition, spec: QuestionSpec, base: Element) -> Element:
    """`base` updated from the spec (columns the builder does not show are kept)."""
    element: Element = copy.deepcopy(base)
    element["type"] = spec.type
    element["name"] = spec.name
    label = _check_texts(result, "label", spec.label)
    needs_label = spec.type not in COMPUTED_TYPES | METADATA_TYPES
    if needs_label and not label.get(result["default_language"]):
        raise InvalidInput(
            "label",
            f"Write the label in the form's default language ({result['default_language']}).",
        )
    element["label"] = label
    element["hint"] = _check_texts(result, "hint", spec.hint)
    if spec.type in STRUCTURE_TYPES | {"note", "calculate"} and spec.required:
        raise InvalidInput("required", f"A {spec.type} cannot be required: it takes no answer.")
    element["required"] = spec.required
    own_name = spec.name
    for column in ("relevant", "constraint", "choice_filter", "repeat_count"):
        value = _check_expression(result, column, getattr(spec, column), own_name)
        element[column] = value
    default = spec.default.strip()
    if is_dynamic_default(default):
        default = _check_expression(result, "default", default, own_name)
    element["default"] = default
    element["calculation"] = _check_expression(result, "calculation", spec.calculation, own_name)
    if spec.type == "calculate" and not element["calculation"]:
        raise InvalidInput("calculation", "A calculate question needs a calculation.")
    message = _check_texts(result, "constraint_message", spec.constraint_message)
    if message and not element["constraint"]:
        raise InvalidInput(
            "constraint_message", "A constraint message needs a constraint to go with it."
        )
    element["constraint_message"] = message
    if element["choice_filter"] and spec.type not in SELECT_TYPES:
        raise InvalidInput("choice_filter", "Only a select question can filter its choices.")
    if element["repeat_count"] and spec.type != "repeat":
        raise InvalidInput("repeat_count", "Only a repeat has a repeat count.")
    if spec.type in LIST_TYPES:
        element["list_name"] = _choice_list(result, spec)
    elif spec.list_name.strip() or spec.new_choices.strip():
        raise InvalidInput("list_name", f"A {spec.type} question has no choices.")
    else:
        element.pop("list_name", None)
    if spec.type in STRUCTURE_TYPES and not element.get("children"):
        # A group must hold something to pass the form check: start it with a note.
        element["children"] = [
            {"type": "note", "name": _free_name(result, f"{spec.name}_intro"), "label": dict(label)}
        ]
    tags = dict(element.get("tags", {}))
    domains = [domain.strip() for domain in spec.domains if domain.strip()]
    if domains:
        tags["domains"] = domains
    else:
        tags.pop("domains", None)
    element["tags"] = tags  # type: ignore[typeddict-item]
    return element


def add_question(
    definition: FormDefinition, spec: QuestionSpec, *, parent: str = ""
) -> FormDefinition:
    """Add a custom question at the end of the form, or of the group or repeat `parent`."""
    if spec.type not in BUILDER_TYPES:
        raise InvalidInput(
            "type",
            f"The builder adds questions of these types: {', '.join(BUILDER_TYPES)}; "
            f"'{spec.type}' is not one of them (import an XLSForm for the others).",
        )
    result = copy.deepcopy(definition)
    _check_name(result, spec.name)
    element = _build(result, spec, {"type": spec.type, "name": spec.name})
    if parent:
        siblings, index = _find(result, parent)
        container = siblings[index]
        if container["type"] not in STRUCTURE_TYPES:
            raise InvalidInput(
                "parent",
                f"'{parent}' is a {container['type']}; only a group or repeat holds questions.",
            )
        container.setdefault("children", []).append(element)
    else:
        result["children"].append(element)
    return result


def update_question(definition: FormDefinition, name: str, spec: QuestionSpec) -> FormDefinition:
    """Change an element; a structure keeps its children, and a name in use cannot change."""
    result = copy.deepcopy(definition)
    siblings, index = _find(result, name)
    current = siblings[index]
    if spec.type != current["type"]:
        if spec.type not in BUILDER_TYPES:
            raise InvalidInput("type", f"'{spec.type}' is not a type the builder offers.")
        if (spec.type in STRUCTURE_TYPES) != (current["type"] in STRUCTURE_TYPES):
            raise InvalidInput(
                "type",
                f"A {current['type']} cannot become a {spec.type}; remove it and add a new one.",
            )
    if spec.name != name:
        _check_name(result, spec.name, current=name)
        users = _referrers(result, {name})
        if users:
            raise InvalidInput(
                "name",
                f"'{name}' cannot be renamed: " + ", ".join(users) + " refer to it.",
            )
    old_list = current.get("list_name", "")
    siblings[index] = _build(result, spec, current)
    new_list = siblings[index].get("list_name", "")
    if old_list and old_list != new_list and old_list not in _used_lists(result):
        result["choices"].pop(old_list, None)
    return result


def remove_element(definition: FormDefinition, name: str) -> FormDefinition:
    """Remove an element (a group with everything in it); refused while others refer to it."""
    result = copy.deepcopy(definition)
    siblings, index = _find(result, name)
    removed = siblings[index]
    gone = _subtree_names(removed)
    users = _referrers(result, gone)
    if users:
        raise InvalidInput(
            "name",
            f"'{name}' cannot be removed: "
            + ", ".join(users)
            + " refer to it; change their conditions first.",
        )
    lists = {element.get("list_name", "") for element, _ in walk([removed])} - {""}
    del siblings[index]
    if not result["children"]:
        raise InvalidInput("name", "A form needs at least one element; this is the last one.")
    for list_name in lists - _used_lists(result):
        result["choices"].pop(list_name, None)
    return result


def move_element(definition: FormDefinition, name: str, direction: Direction) -> FormDefinition:
    """Swap an element with its neighbour in the same group (a module moves as one group)."""
    if direction not in ("up", "down"):
        raise InvalidInput("direction", "Move an element 'up' or 'down'.")
    result = copy.deepcopy(definition)
    siblings, index = _find(result, name)
    target = index - 1 if direction == "up" else index + 1
    if target < 0:
        raise InvalidInput("direction", f"'{name}' is already first in its group.")
    if target >= len(siblings):
        raise InvalidInput("direction", f"'{name}' is already last in its group.")
    siblings[index], siblings[target] = siblings[target], siblings[index]
    return result


# --- languages and translations ----------------------------------------------------


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
    _strip_languages(result)
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
