"""The media and data files a form names besides itself."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import PurePath

from incity.surveys.definition import FormDefinition, walk
from incity.surveys.xlsform.vocabulary import _FILE_SELECTS

_PULLDATA = re.compile(r"pulldata\s*\(\s*['\"]([^'\"]+)['\"]")
_SEARCH = re.compile(r"search\s*\(\s*['\"]([^'\"]+)['\"]")
_JR_FILE = re.compile(r"jr://(?:file-csv|file|images|audio|video)/([^'\"\s)]+)")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _with_csv(name: str) -> str:
    return name if PurePath(name).suffix else f"{name}.csv"


def required_files(definition: FormDefinition) -> list[str]:
    """Media and data files the form names: media columns, select_*_from_file lists,
    pulldata() and search() sources and jr:// references. Sorted, each once."""
    files: set[str] = set()
    for element, _ in walk(definition.get("children", [])):
        for texts in element.get("media", {}).values():
            files.update(name for name in texts.values() if name)
        list_name = element.get("list_name", "")
        if element["type"] in _FILE_SELECTS and list_name:
            files.add(list_name)
        if element["type"] == "image" and element.get("default"):
            files.add(element.get("default", "").removeprefix("jr://images/"))
        fields = {key: value for key, value in element.items() if key not in ("children", "name")}
        for text in _strings(fields):
            files.update(_with_csv(name) for name in _PULLDATA.findall(text))
            files.update(_JR_FILE.findall(text))
        files.update(_with_csv(name) for name in _SEARCH.findall(element.get("appearance", "")))
    for options in definition.get("choices", {}).values():
        for option in options:
            for texts in option.get("media", {}).values():
                files.update(name for name in texts.values() if name)
    return sorted(file for file in files if file)
