from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client


def test_health_answers_ok_when_the_database_answers(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["cache"] == "ok"


def test_health_answers_503_naming_the_database_when_it_fails(db: None) -> None:
    with mock.patch(
        "incity.web.health.connection.cursor", side_effect=OperationalError("server closed")
    ):
        response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error: OperationalError"
    assert body["failing"] == ["database"]


def test_health_answers_503_naming_the_cache_when_it_fails(db: None) -> None:
    with mock.patch("incity.web.health.cache.set", side_effect=ConnectionError("redis down")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_health_refuses_anything_but_get(db: None, method: str) -> None:
    assert getattr(Client(), method)("/healthz").status_code == 405
