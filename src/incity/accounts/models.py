"""Users, organisations, projects, memberships, API tokens and the audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incity.accounts.roles import OrganisationKind, ProjectState, Role


class CaseInsensitiveUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Usernames are unique regardless of case (services refuse look-alikes),
        # so "Lena" and "lena" sign in to the same account.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who signs in. Roles come from memberships, never from the user row."""

    objects = CaseInsensitiveUserManager()  # type: ignore[misc]

    # Demo accounts (password 'demo-pass') may sign in only while demo mode is on.
    is_demo_account = models.BooleanField(default=False)
    preferred_language = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["username"]


class MigrationHistory(models.TextChoices):
    NEWER = "newer", _("Newer history of migration")
    LONGER = "longer", _("Longer history of migration")


class MigrationRole(models.TextChoices):
    TRANSIT = "transit", _("Mainly transit")
    SETTLEMENT = "settlement", _("Mainly settlement")
    BOTH = "both", _("Transit and settlement")


class SizeBand(models.TextChoices):
    SMALL_TOWN = "small_town", _("Small town (under 50,000)")
    TOWN = "town", _("Town (50,000-150,000)")
    CITY = "city", _("City (150,000-500,000)")
    LARGE_CITY = "large_city", _("Large city (over 500,000)")


class Organisation(models.Model):
    """A city, town, region, civil-society organisation, university or funder: the tenant."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    size_band = models.CharField(max_length=16, choices=SizeBand.choices, blank=True)
    migration_history = models.CharField(max_length=8, choices=MigrationHistory.choices, blank=True)
    migration_role = models.CharField(max_length=12, choices=MigrationRole.choices, blank=True)
    description = models.TextField(blank=True)
    is_synthetic = models.BooleanField(
        default=False, help_text="Generated demo data; labelled as synthetic wherever shown."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One user's role in one organisation; a user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_role_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"


class Project(models.Model):
    """A body of work owned by one organisation; the unit of raw-data access."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="projects"
    )
    state = models.CharField(
        max_length=12, choices=ProjectState.choices, default=ProjectState.DRAFT
    )
    description = models.TextField(blank=True)
    disclosure_threshold = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(2)],
        help_text="Published counts below this are suppressed.",
    )
    areas = models.ManyToManyField("places.Area", blank=True, related_name="projects")
    is_synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disclosure_threshold__gte=2), name="threshold_at_least_two"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token; only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, shown so a person can tell tokens apart.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditKind(models.TextChoices):
    WRITE = "write", _("Write")
    RAW_READ = "raw_read", _("Read of raw personal data")
    AUTH = "auth", _("Sign-in and security")


class AuditEvent(models.Model):
    """Who did what, when and from where. Rows are only ever added."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the record survives the actor's deletion.
    actor_username = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=AuditKind.choices)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=8, blank=True, help_text="web, api or cli")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or '-'} {self.action}"
