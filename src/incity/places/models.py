"""Areas (neighbourhoods, wards, districts) that organisations and projects cover."""

from __future__ import annotations

from pathlib import Path

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AreaKind(models.TextChoices):
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    WARD = "ward", _("Ward")
    DISTRICT = "district", _("District")
    MUNICIPALITY = "municipality", _("Whole municipality")


class Area(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="areas"
    )
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=AreaKind.choices, default=AreaKind.NEIGHBOURHOOD)
    # GeoJSON geometry (WGS84, lon/lat order); validated with shapely when boundaries are imported.
    boundary = models.JSONField(null=True, blank=True)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="area_name_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"


class PlaceKind(models.TextChoices):
    LANDMARK = "landmark", _("Landmark")
    SERVICE = "service", _("Service")
    ORGANISATION = "organisation", _("Civil-society organisation")
    MEETING_PLACE = "meeting_place", _("Trusted meeting place")


class NamedPlace(models.Model):
    """A place a project names so that residents can pick it instead of using the map."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="named_places"
    )
    project = models.ForeignKey(
        "accounts.Project", on_delete=models.CASCADE, related_name="named_places"
    )
    name = models.CharField(max_length=200)
    # Names in the form's languages, keyed like form labels ("Deutsch (de)": "Bahnhof").
    translations = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=16, choices=PlaceKind.choices)
    lon = models.FloatField()
    lat = models.FloatField()
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="named_places"
    )
    is_synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="named_place_per_project"),
        ]

    def __str__(self) -> str:
        return self.name


def _plan_image_path(instance: PlanImage, filename: str) -> str:
    return f"plan-images/{instance.project_id}/{instance.sha256}{Path(filename).suffix.lower()}"


class PlanImage(models.Model):
    """A project's own basemap: an image laid over the map between two corners (lon/lat)."""

    project = models.OneToOneField(
        "accounts.Project", on_delete=models.CASCADE, related_name="plan_image"
    )
    file = models.FileField(upload_to=_plan_image_path, max_length=300)
    content_type = models.CharField(max_length=32)
    # The URL carries the content hash: unguessable, and cacheable for ever by the offline app.
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    west = models.FloatField()
    south = models.FloatField()
    east = models.FloatField()
    north = models.FloatField()
    uploaded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"plan image of {self.project}"
