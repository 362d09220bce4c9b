"""Fixtures shared by the whole suite; the personas live in tests/personas.py."""

from __future__ import annotations

import pytest

from incity.i18n import compile_catalogues
from tests.personas import cast


def pytest_sessionstart(session: pytest.Session) -> None:
    # The .mo files are build output (not committed); make sure they exist
    # even when pytest runs without `make setup`.
    compile_catalogues()


__all__ = ["cast"]
