"""What every API endpoint asks of its request: the signed-in user and where it came from.

The API's authentication (incity/api.py) has already refused anonymous requests
when an endpoint runs, so `signed_in_user` only narrows the type; endpoints
open to anyone (`auth=None`) do not call it.
"""

from __future__ import annotations

from django.http import HttpRequest

from incity.accounts.audit import Origin
from incity.accounts.models import User


def signed_in_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def api_origin(request: HttpRequest) -> Origin:
    return Origin.from_request(request, channel="api")
