"""Sensitive answers taken out of a submission (to be stored encrypted) and put back."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from incity.surveys.definition import Element, FormDefinition
from incity.surveys.validation.form import PreparedForm, prepare

_PATH_STEP = re.compile(r"([^\[\]]+)\[([0-9]+)\]\.(.+)", re.DOTALL)


def split_sensitive(
    definition: FormDefinition | PreparedForm,
    answers: dict[str, Any],
    extra_sensitive: frozenset[str],
    *,
    copy_values: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the answers without sensitive values, the sensitive values keyed by path).

    Sensitive: elements tagged sensitive (or inside a group or repeat tagged so) and
    names in `extra_sensitive`. Inside repeats the plain part keeps the structure
    and the value goes under its path ("household[2].status"); a sensitive repeat
    goes whole under its name. `merge_sensitive()` puts everything back.
    `copy_values=False` shares nested values with `answers` (for answers just
    validated, which nothing else holds: a batch spends a fifth of its split on copies).
    """
    form = prepare(definition)
    secret = set(form.sensitive_names) | set(extra_sensitive)
    for name in extra_sensitive:
        item = form.fields.get(name)
        if name in form.groups or (item is not None and item.type == "repeat"):
            secret.update(_descendants(form.definition.get("children") or [], name))
    sensitive: dict[str, Any] = {}
    if not isinstance(answers, Mapping):
        return answers, sensitive
    plain = _split(form, answers, "", frozenset(secret), sensitive, _copy if copy_values else _same)
    return plain, sensitive


def _descendants(children: list[Element], name: str) -> set[str]:
    found: set[str] = set()
    stack: list[tuple[list[Element], bool]] = [(children, False)]
    while stack:
        elements, inside = stack.pop()
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            here = inside or element.get("name") == name
            if inside and isinstance(element.get("name"), str):
                found.add(element["name"])
            if isinstance(element.get("children"), list):
                stack.append((element["children"], here))
    return found


def _split(
    form: PreparedForm,
    data: Mapping[str, Any],
    prefix: str,
    secret: frozenset[str],
    sensitive: dict[str, Any],
    keep: Callable[[Any], Any],
) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str) and key in secret and "[" not in key and "]" not in key:
            sensitive[prefix + key] = keep(value)
            continue
        item = form.fields.get(key) if isinstance(key, str) else None
        if item is not None and item.type == "repeat" and isinstance(value, list):
            plain[key] = [
                _split(form, entry, f"{prefix}{key}[{position}].", secret, sensitive, keep)
                if isinstance(entry, Mapping)
                else keep(entry)
                for position, entry in enumerate(value, start=1)
            ]
        else:
            plain[key] = keep(value)
    return plain


def _same(value: Any) -> Any:
    return value


def _copy(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)


def merge_sensitive(plain: dict[str, Any], sensitive: dict[str, Any]) -> dict[str, Any]:
    """The answers `split_sensitive()` split: `plain` with the sensitive values put back."""
    merged = copy.deepcopy(plain)
    for path, value in sensitive.items():
        target: Any = merged
        rest = path
        while True:
            step = _PATH_STEP.fullmatch(rest)
            if step is None:
                break
            repeat, position, rest = step[1], int(step[2]), step[3]
            entries = target.setdefault(repeat, [])
            if not isinstance(entries, list):
                break
            while len(entries) < position:
                entries.append({})
            target = entries[position - 1]
            if not isinstance(target, dict):
                break
        if isinstance(target, dict):
            target[rest] = copy.deepcopy(value)
    return merged
