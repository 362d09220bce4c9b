"""Fixtures shared by the whole suite; the personas live in tests/personas.py."""

from __future__ import annotations

import shutil

import pytest
from django.core.cache import cache

from incity.analysis.query import snapshot_dir
from incity.analysis.sensitive_groups import forget as forget_sensitive_levels
from incity.i18n import compile_catalogues
from incity.maps.layers.marks import forget_loaded as forget_loaded_marks
from tests.personas import cast


def pytest_sessionstart(session: pytest.Session) -> None:
    # The .mo files are build output (not committed); make sure they exist
    # even when pytest runs without `make setup`.
    compile_catalogues()


@pytest.fixture(autouse=True)
def _forget_derived_data() -> None:
    """Each test starts with no cached tables or layers and no analysis snapshots.

    They are keyed by a fingerprint of the form's submissions; a rolled-back test
    can leave a later test the same ids, so the same fingerprint for other data.
    """
    cache.clear()
    shutil.rmtree(snapshot_dir(), ignore_errors=True)
    # Decrypted sensitive levels and loaded map marks live in process memory.
    forget_sensitive_levels()
    forget_loaded_marks()


__all__ = ["cast"]
