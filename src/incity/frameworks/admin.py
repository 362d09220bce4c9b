"""Django admin for frameworks: mainly to promote an item's verification after checking a source."""

from __future__ import annotations

from django.contrib import admin

from incity.accounts.admin import AuditedAdmin
from incity.frameworks.models import Crosswalk, CrosswalkLink, Framework, FrameworkItem


class FrameworkItemInline(admin.TabularInline):
    model = FrameworkItem
    fk_name = "framework"
    extra = 0
    fields = ["order", "kind", "slug", "name", "parent", "verification"]
    show_change_link = True


@admin.register(Framework)
class FrameworkAdmin(AuditedAdmin):
    list_display = ["name", "slug", "edition", "kind", "owner", "verification"]
    list_filter = ["kind", "verification"]
    search_fields = ["name", "slug"]
    list_select_related = ["owner"]
    inlines = [FrameworkItemInline]


@admin.register(FrameworkItem)
class FrameworkItemAdmin(AuditedAdmin):
    list_display = ["name", "slug", "kind", "framework", "parent", "verification"]
    list_filter = ["framework", "kind", "verification"]
    search_fields = ["name", "slug", "definition"]
    list_select_related = ["framework", "parent"]
    raw_id_fields = ["parent"]


class CrosswalkLinkInline(admin.TabularInline):
    model = CrosswalkLink
    extra = 0
    raw_id_fields = ["source_item", "target_item"]


@admin.register(Crosswalk)
class CrosswalkAdmin(AuditedAdmin):
    list_display = [
        "name",
        "slug",
        "from_framework",
        "to_framework",
        "basis",
        "kind",
        "owner",
        "verification",
    ]
    list_filter = ["kind", "basis", "verification"]
    search_fields = ["name", "slug"]
    list_select_related = ["from_framework", "to_framework", "owner"]
    inlines = [CrosswalkLinkInline]
