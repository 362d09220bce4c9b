"""Public links: an unguessable address that lets residents answer one form without signing in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from incity.surveys.models import Form


class PublicLink(models.Model):
    """One form's anonymous link. A form has at most one; switching it off keeps the row
    (and the token), so switching it on again gives the same address printed on posters."""

    form = models.OneToOneField(Form, on_delete=models.CASCADE, related_name="public_link")
    # secrets.token_urlsafe(24): 192 random bits, never guessable, never shown in lists.
    token = models.CharField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    # After this moment the link answers as switched off (optional).
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Never the token: it is the key to the form.
        return f"public link of form {self.form_id}"

    def is_live(self) -> bool:
        """Switched on and not past its expiry (the form's own status is checked on submit)."""
        if not self.enabled:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
