"""Integration frameworks, their items (headings, domains, principles, ...) and crosswalks.

A framework is a shared vocabulary: survey questions, interview codes,
indicators and actions are tagged to its items so that evidence and plans
meet. Official frameworks ship with incity as data (see `catalogue.py`);
custom ones are added by an organisation, or by the network, through
`services.py`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incity.accounts.models import Organisation


class FrameworkKind(models.TextChoices):
    """Who maintains a framework or crosswalk; used by both."""

    # Shipped with incity from the catalogue file and read-only through the API.
    OFFICIAL = "official", _("Official (shipped with incity)")
    CUSTOM = "custom", _("Custom")


class Verification(models.TextChoices):
    """How far our transcription has been checked against its source."""

    VERIFIED = "verified", _("Verified against the public source")
    SECONDARY = "secondary", _("From a secondary source or our own inference")
    UNVERIFIED = "unverified", _("Not yet verified")


class ItemKind(models.TextChoices):
    HEADING = "heading", _("Heading")
    DOMAIN = "domain", _("Domain")
    PRINCIPLE = "principle", _("Principle")
    THEME = "theme", _("Thematic area")
    EFFECTOR_LEVEL = "effector_level", _("Effector level")


class CrosswalkBasis(models.TextChoices):
    SOURCE = "source", _("Published by a framework's authors")
    ANALYST = "analyst", _("An analyst's mapping")


class LinkRelation(models.TextChoices):
    """How the target item relates to the source item, read as 'the target is ...'."""

    EQUIVALENT = "equivalent", _("Equivalent")
    BROADER = "broader", _("Broader")
    NARROWER = "narrower", _("Narrower")
    RELATED = "related", _("Related")


class Framework(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    edition = models.CharField(
        max_length=100, blank=True, help_text="Version or edition, e.g. 'third edition'."
    )
    description = models.TextField(blank=True)
    kind = models.CharField(
        max_length=8, choices=FrameworkKind.choices, default=FrameworkKind.CUSTOM
    )
    # Null means network-wide: shared by every organisation in the network.
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="frameworks"
    )
    source = models.TextField(
        blank=True, help_text="Citation of the document the framework comes from."
    )
    source_url = models.URLField(max_length=500, blank=True)
    licence = models.CharField(max_length=200, blank=True)
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Official frameworks belong to the whole network, never to one organisation.
            models.CheckConstraint(
                condition=models.Q(kind=FrameworkKind.CUSTOM) | models.Q(owner__isnull=True),
                name="official_framework_has_no_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.edition})" if self.edition else self.name

    @property
    def is_official(self) -> bool:
        return self.kind == FrameworkKind.OFFICIAL


class FrameworkItem(models.Model):
    """One heading, domain, principle, theme or effector level of a framework."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    # Only one level: a heading groups items (the IoI domains); headings have no parent.
    # RESTRICT, not PROTECT: a heading with items cannot be deleted alone, but
    # deleting the whole framework takes its headings and their items together.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children"
    )
    # Stable ids such as 'health_social_care' that other apps and exports refer to.
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    source = models.TextField(blank=True)
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.UNVERIFIED
    )

    class Meta:
        ordering = ["framework_id", "order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "slug"], name="item_slug_per_framework"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        if self.parent_id is None:
            return
        parent = self.parent
        assert parent is not None
        if parent.framework_id != self.framework_id:
            raise ValidationError({"parent": _("The parent must belong to the same framework.")})
        if parent.kind != ItemKind.HEADING:
            raise ValidationError({"parent": _("Only a heading can be a parent.")})
        if self.kind == ItemKind.HEADING:
            raise ValidationError({"parent": _("A heading cannot sit under another item.")})


class Crosswalk(models.Model):
    """A mapping from the items of one framework to the items of another."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=8, choices=FrameworkKind.choices, default=FrameworkKind.CUSTOM
    )
    from_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="crosswalks_from"
    )
    to_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="crosswalks_to"
    )
    basis = models.CharField(
        max_length=8, choices=CrosswalkBasis.choices, default=CrosswalkBasis.ANALYST
    )
    description = models.TextField(blank=True)
    source = models.TextField(
        blank=True, help_text="Who made the mapping, and where it is published."
    )
    # Null means network-wide, as for frameworks.
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="crosswalks"
    )
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_framework=models.F("to_framework")),
                name="crosswalk_joins_two_frameworks",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=FrameworkKind.CUSTOM) | models.Q(owner__isnull=True),
                name="official_crosswalk_has_no_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_official(self) -> bool:
        return self.kind == FrameworkKind.OFFICIAL


class CrosswalkLink(models.Model):
    crosswalk = models.ForeignKey(Crosswalk, on_delete=models.CASCADE, related_name="links")
    source_item = models.ForeignKey(
        FrameworkItem, on_delete=models.PROTECT, related_name="links_out"
    )
    target_item = models.ForeignKey(
        FrameworkItem, on_delete=models.PROTECT, related_name="links_in"
    )
    relation = models.CharField(
        max_length=10, choices=LinkRelation.choices, default=LinkRelation.RELATED
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["crosswalk_id", "source_item__order", "target_item__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["crosswalk", "source_item", "target_item"], name="one_link_per_item_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_item.slug} → {self.target_item.slug} ({self.relation})"

    def clean(self) -> None:
        crosswalk = self.crosswalk
        if self.source_item.framework_id != crosswalk.from_framework_id:
            raise ValidationError(
                {
                    "source_item": _(
                        "The source item must belong to the crosswalk's source framework."
                    )
                }
            )
        if self.target_item.framework_id != crosswalk.to_framework_id:
            raise ValidationError(
                {
                    "target_item": _(
                        "The target item must belong to the crosswalk's target framework."
                    )
                }
            )
