"""Adding and changing a question: its name, texts, expressions and choice list."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from incity.errors import InvalidInput
from incity.surveys import expressions
from incity.surveys.builder.elements import (
    element_names,
    find,
    free_name,
    referrers,
    used_lists,
)
from incity.surveys.builder.languages import MAX_TEXT
from incity.surveys.definition import (
    BUILDER_TYPES,
    COMPUTED_TYPES,
    METADATA_TYPES,
    NAME_PATTERN,
    SELECT_TYPES,
    STRUCTURE_TYPES,
    Choice,
    Element,
    FormDefinition,
    LanguageText,
)
from incity.surveys.formcheck import is_dynamic_default

LIST_TYPES: frozenset[str] = frozenset({"select_one", "select_multiple", "rank", "map_marks"})
# The category list a map_marks question uses when none is chosen (as the modules name it).
DEFAULT_MARK_LIST = "mark_category"


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
    if name != current and name in element_names(definition):
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
    unknown = sorted(referenced - element_names(definition) - {name})
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
            {"type": "note", "name": free_name(result, f"{spec.name}_intro"), "label": dict(label)}
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
        siblings, index = find(result, parent)
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
    siblings, index = find(result, name)
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
        users = referrers(result, {name})
        if users:
            raise InvalidInput(
                "name",
                f"'{name}' cannot be renamed: " + ", ".join(users) + " refer to it.",
            )
    old_list = current.get("list_name", "")
    siblings[index] = _build(result, spec, current)
    new_list = siblings[index].get("list_name", "")
    if old_list and old_list != new_list and old_list not in used_lists(result):
        result["choices"].pop(old_list, None)
    return result
