"""Areas (neighbourhoods, wards, districts) that organisations and projects cover."""

from __future__ import annotations

from django.db import models
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
