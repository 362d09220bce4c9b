"""Export tests write job files into their own folder and run jobs as the worker would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def exports_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "exports-data"
    settings.EXPORTS_DIR = folder
    return folder


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Column stores (DATA_DIR/columns) of one test never meet another's."""
    folder = tmp_path_factory.mktemp("data")
    settings.DATA_DIR = folder
    return folder


@pytest.fixture
def immediate_jobs(settings: Any) -> None:
    """Jobs run as soon as their request commits (django-tasks' immediate backend)."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "exports"],
        }
    }
