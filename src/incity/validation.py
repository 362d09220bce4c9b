"""Checks of user input shared by every app's services; each failure names the field."""

from __future__ import annotations

import re

from incity.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Framework item ids keep the underscores of published ids, e.g. 'health_social_care'.
_SLUG_WITH_UNDERSCORES = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")


def check_slug(field: str, value: str, *, underscores: bool = False) -> None:
    pattern = _SLUG_WITH_UNDERSCORES if underscores else _SLUG
    if pattern.match(value):
        return
    characters = (
        "lower-case letters, digits, hyphens and underscores"
        if underscores
        else "lower-case letters, digits and hyphens"
    )
    raise InvalidInput(
        field,
        f"{field} '{value}' must be 1-64 {characters}, starting and ending with a letter or digit.",
    )
