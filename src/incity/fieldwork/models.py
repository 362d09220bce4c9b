"""Sync status that collection devices report: one row per device and app in a project."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incity.accounts.models import Project

# How a submission without a signed-in collector (a resident on the public link) is shown.
# Usernames cannot hold spaces, so no person can be confused with it.
PUBLIC_LINK = "public link"


class DeviceApp(models.TextChoices):
    WEB = "web", _("incity web app")
    ODK = "odk", _("ODK Collect / KoboCollect")
    API = "api", _("API client")


class DeviceSync(models.Model):
    """What a device last said about its queue: how many are waiting, sent, and the last error.

    The device reports these numbers itself; the server only keeps the latest report,
    so the fieldwork view can show a team which phones have stopped syncing.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="device_syncs")
    device_id = models.CharField(max_length=100)
    app = models.CharField(max_length=8, choices=DeviceApp.choices)
    # The person signed in on the device at its latest report; null for a public link.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    pending = models.PositiveIntegerField(default=0)
    sent_total = models.PositiveBigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "device_id", "app"], name="one_sync_row_per_device_app"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} ({self.app})"
