"""Roles, project states and actions: the vocabulary of the permission matrix."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NETWORK_ADMIN = "network_admin", _("Network admin")
    CITY_LEAD = "city_lead", _("City integration lead")
    RESEARCHER = "researcher", _("Researcher")
    CITIZEN_RESEARCHER = "citizen_researcher", _("Citizen researcher")
    PARTNER = "partner", _("Partner")
    VIEWER = "viewer", _("Viewer")


class ProjectState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Collecting")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class OrganisationKind(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town")
    REGION = "region", _("Region")
    CSO = "cso", _("Civil-society organisation")
    UNIVERSITY = "university", _("University")
    FUNDER = "funder", _("Funder")
