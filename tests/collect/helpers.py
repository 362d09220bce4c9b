"""Shared steps of the collection tests: a published form, its app URLs and a public link."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from incity.collect import services
from incity.collect.models import PublicLink
from incity.surveys.models import Form
from tests.personas import SYSTEM, Cast
from tests.surveys.forms import payload, published_form

__all__ = ["app_url", "link_for", "payload", "post_json", "published_form"]


def app_url(form: Form, part: str = "") -> str:
    return f"/collect/{form.project.slug}/{form.form_id}/{part}"


def link_for(cast: Cast, form: Form) -> PublicLink:
    return services.enable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)


def post_json(client: Client, url: str, body: Any, *, token: str = "", **headers: str) -> Any:
    extra = {"headers": {"X-Collect-Link": token, **headers}} if token else {"headers": headers}
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)
