from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class IncityModelBackend(ModelBackend):
    """Django's username/password backend, except that demo accounts work only in demo mode."""

    def user_can_authenticate(self, user: Any) -> bool:
        if getattr(user, "is_demo_account", False) and not settings.DEMO_MODE:
            return False
        return super().user_can_authenticate(user)
