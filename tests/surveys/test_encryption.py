"""Sensitive answers at rest: keys from the environment, rotation, project settings."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from incity.env import ConfigError
from incity.surveys import crypto
from incity.surveys.models import Answer, Submission
from incity.surveys.queries import current_answers
from incity.surveys.services.sensitivity import rotate_encryption
from tests.personas import SYSTEM, Cast, bearer
from tests.surveys.forms import published_form, stored

pytestmark = pytest.mark.django_db


def test_missing_keys_refuse_to_store_sensitive_answers(cast: Cast, settings: Any) -> None:
    form = published_form(cast)
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(ConfigError, match="INCITY_ENCRYPTION_KEYS is not set"):
        stored(form, cast.fieldworker)
    assert Submission.objects.count() == 0


def test_a_malformed_key_is_named(settings: Any) -> None:
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]
    with pytest.raises(ConfigError, match="key 2 is not a Fernet key"):
        crypto.check_keys()


def test_a_dropped_key_is_reported_not_a_traceback(cast: Cast, settings: Any) -> None:
    form = published_form(cast)
    stored(form, cast.fieldworker)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionFailed, match="rotate"):
        current_answers(Submission.objects.get())
    with pytest.raises(crypto.DecryptionFailed):
        rotate_encryption(origin=SYSTEM)


def test_rotation_keeps_every_value_readable_with_the_new_key_alone(
    cast: Cast, settings: Any
) -> None:
    form = published_form(cast)
    for _ in range(3):
        stored(form, cast.fieldworker)
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, *settings.ENCRYPTION_KEYS]
    assert rotate_encryption(origin=SYSTEM) == 3
    settings.ENCRYPTION_KEYS = [new]
    assert all(current_answers(s)["born_here"] == "no" for s in Submission.objects.all())


def test_marking_a_question_sensitive_re_encrypts_stored_answers(cast: Cast) -> None:
    form = published_form(cast)
    stored(form, cast.fieldworker)
    api = Client(headers=bearer(cast.researcher))
    unknown = api.put(
        "/api/v1/projects/riverton-survey/sensitive-questions",
        {"questions": ["tenure", "shoe_size"]},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    assert "shoe_size" in unknown.json()["message"]
    assert "tenure" in Submission.objects.get().answers
    refused = Client(headers=bearer(cast.fieldworker)).put(
        "/api/v1/projects/riverton-survey/sensitive-questions",
        {"questions": ["tenure"]},
        content_type="application/json",
    )
    assert refused.status_code == 403
    response = api.put(
        "/api/v1/projects/riverton-survey/sensitive-questions",
        {"questions": ["tenure"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    submission = Submission.objects.get()
    assert "tenure" not in submission.answers
    assert current_answers(submission)["tenure"] == "private_rent"
    assert not Answer.objects.filter(name="tenure").exists()
    later = stored(form, cast.fieldworker)
    assert later.submission is not None
    assert "tenure" not in later.submission.answers
