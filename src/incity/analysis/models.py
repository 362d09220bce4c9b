"""Population margins: the known totals (for example from a census) that estimates are weighted to."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from incity.accounts.models import Project, User


class PopulationMargin(models.Model):
    """One level of one variable's population total in a project (e.g. sex=female: 5200).

    `variable` is the name of a choice question of the project's forms and `level` one
    of its choices; the services check both, and that all variables describe the same
    population (their totals sum to the same number).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="margins")
    variable = models.CharField(max_length=100)
    level = models.CharField(max_length=100)
    total = models.FloatField()
    source = models.TextField(blank=True)
    is_synthetic = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["variable", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "variable", "level"], name="one_total_per_margin_level"
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="margin_total_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.variable}={self.level}: {self.total:g}"
