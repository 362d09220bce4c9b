"""Django admin: read-only views of accounts data, and an audit mixin for admins that write.

Writes to organisations, memberships, projects and tokens go through the
services (CLI, API, pages), which enforce the rules and audit; the admin only
shows them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest

from incity.accounts.audit import Origin, record
from incity.accounts.models import (
    ApiToken,
    AuditEvent,
    AuditKind,
    Membership,
    Organisation,
    Project,
    User,
)


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit row for every save and delete made in the Django admin."""

    def _audit(self, request: HttpRequest, obj: Model, action: str) -> None:
        actor = request.user if isinstance(request.user, User) else None
        record(
            actor=actor,
            origin=Origin.from_request(request, channel="admin"),
            kind=AuditKind.WRITE,
            action=f"admin.{obj._meta.model_name}.{action}",
            target=obj,
            detail={"repr": str(obj)[:200]},
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "change" if change else "create")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, obj, "delete")
        super().delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "kind", "country", "size_band", "is_synthetic"]
    list_filter = ["kind", "is_synthetic"]
    search_fields = ["name", "slug"]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "organisation", "state", "disclosure_threshold"]
    list_filter = ["state"]
    list_select_related = ["organisation"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "organisation"]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["username", "email", "is_active", "is_demo_account"]
    exclude = ["password"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "user", "created_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]
    list_select_related = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_username", "kind", "action", "organisation", "project", "channel"]
    list_filter = ["kind", "channel"]
    search_fields = ["action", "actor_username"]
    list_select_related = ["organisation", "project"]
