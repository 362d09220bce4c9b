"""Finding elements in a draft, moving and removing them, and adding a module's groups."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Literal

from incity.errors import InvalidInput
from incity.surveys import expressions
from incity.surveys.builder.languages import strip_languages
from incity.surveys.definition import STRUCTURE_TYPES, Element, FormDefinition, walk

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


def _locate(children: list[Element], name: str) -> tuple[list[Element], int] | None:
    for index, element in enumerate(children):
        if element["name"] == name:
            return children, index
        if element["type"] in STRUCTURE_TYPES:
            found = _locate(element.get("children", []), name)
            if found is not None:
                return found
    return None


def find(definition: FormDefinition, name: str) -> tuple[list[Element], int]:
    found = _locate(definition["children"], name)
    if found is None:
        raise InvalidInput("name", f"The form has no element named '{name}'.")
    return found


def element_named(definition: FormDefinition, name: str) -> Element:
    siblings, index = find(definition, name)
    return siblings[index]


def element_names(definition: FormDefinition) -> set[str]:
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


def referrers(definition: FormDefinition, names: set[str]) -> list[str]:
    """Elements outside `names` whose expressions refer to one of `names`."""
    found: list[str] = []
    for element, _ in walk(definition["children"]):
        if element["name"] in names:
            continue
        if any(_references(value) & names for _, value in _expressions_of(element)):
            found.append(element["name"])
    return found


def free_name(definition: FormDefinition, wanted: str) -> str:
    taken = element_names(definition)
    name, number = wanted, 2
    while name in taken:
        name, number = f"{wanted}_{number}", number + 1
    return name


def _subtree_names(element: Element) -> set[str]:
    return {element["name"]} | {child["name"] for child, _ in walk(element.get("children", []))}


def used_lists(definition: FormDefinition) -> set[str]:
    return {
        element.get("list_name", "")
        for element, _ in walk(definition["children"])
        if element.get("list_name")
    }


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
    taken = element_names(result) & element_names(addition)
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
    strip_languages(result)
    return result


def remove_element(definition: FormDefinition, name: str) -> FormDefinition:
    """Remove an element (a group with everything in it); refused while others refer to it."""
    result = copy.deepcopy(definition)
    siblings, index = find(result, name)
    removed = siblings[index]
    gone = _subtree_names(removed)
    users = referrers(result, gone)
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
    for list_name in lists - used_lists(result):
        result["choices"].pop(list_name, None)
    return result


def move_element(definition: FormDefinition, name: str, direction: Direction) -> FormDefinition:
    """Swap an element with its neighbour in the same group (a module moves as one group)."""
    if direction not in ("up", "down"):
        raise InvalidInput("direction", "Move an element 'up' or 'down'.")
    result = copy.deepcopy(definition)
    siblings, index = find(result, name)
    target = index - 1 if direction == "up" else index + 1
    if target < 0:
        raise InvalidInput("direction", f"'{name}' is already first in its group.")
    if target >= len(siblings):
        raise InvalidInput("direction", f"'{name}' is already last in its group.")
    siblings[index], siblings[target] = siblings[target], siblings[index]
    return result
