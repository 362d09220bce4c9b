"""Fixtures shared by the whole suite; the personas live in tests/personas.py."""

from tests.personas import cast

__all__ = ["cast"]
