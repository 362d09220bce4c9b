"""Published map layers embedded in other web pages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EmbeddedMap(models.Model):
    """A published layer's parameters behind a random token: the token is the capability.

    Anyone with the token sees the published layer (never raw data) without signing in,
    until a lead disables it.
    """

    project = models.ForeignKey(
        "accounts.Project", on_delete=models.CASCADE, related_name="embedded_maps"
    )
    form = models.ForeignKey("surveys.Form", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, default="hexagons")
    title = models.CharField(max_length=200)
    # LayerParams.as_dict(): question, category, time, group, resolution, since, until.
    params: models.JSONField[dict[str, object]] = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title
