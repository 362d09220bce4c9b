"""Export jobs: one request for a form's data in one format, its progress and its file.

The job row is what the web page polls: `rows_done` of `rows_total` while the
worker writes, then the file's name and size. The file itself lives under
`settings.EXPORTS_DIR` and is served only to the person who asked for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incity.accounts.models import Project
from incity.surveys.models import Form


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    SAV = "sav", "SPSS (SAV)"
    DTA = "dta", "Stata (DTA)"
    PARQUET = "parquet", "Parquet"
    GEOJSON = "geojson", "GeoJSON"


class LabelMode(models.TextChoices):
    CODES = "codes", _("Choice codes")
    LABELS = "labels", _("Choice labels")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Writing")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="export_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    labels = models.CharField(max_length=6, choices=LabelMode.choices, default=LabelMode.CODES)
    # The form language the variable and value labels are taken from.
    language = models.CharField(max_length=64)
    since = models.DateTimeField(null=True, blank=True)
    # Decided when the job is requested, from the requester's role; never widened later.
    include_sensitive = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    # The file's name inside EXPORTS_DIR, and the name offered to the browser.
    file_name = models.CharField(max_length=255, blank=True)
    download_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The django-tasks result id of the latest run, to tell a lost job from a queued one.
    task_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Updated after every chunk: a running job whose heartbeat stopped lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"export {self.pk} of form {self.form_id} ({self.format})"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
