"""Forms for the pages: they validate what people type before a service or query sees it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from incity.accounts.models import AuditKind, Project
from incity.accounts.queries import AuditFilter
from incity.accounts.roles import ProjectState, Role
from incity.accounts.services import STATE_TRANSITIONS


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    """The audit log filter, read from GET parameters. Every field may stay empty."""

    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=64,
        help_text=_("For example project. or membership.create"),
        error_messages={"max_length": _("'Action starts with' may be at most 64 characters.")},
    )
    actor = forms.CharField(
        label=_("Username"),
        required=False,
        max_length=150,
        error_messages={"max_length": _("'Username' may be at most 150 characters.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any kind")), *AuditKind.choices],
        error_messages={"invalid_choice": _("'Kind' must be one of the listed kinds.")},
    )
    project = forms.ChoiceField(
        label=_("Project"),
        required=False,
        error_messages={
            "invalid_choice": _("'Project' must be one of this organisation's projects.")
        },
    )
    since = forms.DateField(
        label=_("Since"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("'Since' must be a date such as 2025-01-31.")},
    )
    until = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("'Until' must be a date such as 2025-01-31.")},
    )

    def __init__(self, *args: Any, projects: list[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project_field = self.fields["project"]
        assert isinstance(project_field, forms.ChoiceField)
        project_field.choices = [("", _("Any project"))] + [(p.slug, p.name) for p in projects]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since: date | None = cleaned.get("since")
        until: date | None = cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("'Until' must be on or after 'Since'."))
        return cleaned

    def audit_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            action=data["action"],
            actor=data["actor"],
            kind=data["kind"],
            project=data["project"],
            since=data["since"],
            until=data["until"],
        )


class ProjectStateForm(forms.Form):
    """The states a project may move to from where it is now."""

    state = forms.ChoiceField(
        label=_("New state"),
        error_messages={
            "invalid_choice": _("A project cannot move to that state from where it is now.")
        },
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reachable = STATE_TRANSITIONS[ProjectState(project.state)]
        state_field = self.fields["state"]
        assert isinstance(state_field, forms.ChoiceField)
        # In the order of ProjectState, so the list reads as the project's life.
        state_field.choices = [(s.value, s.label) for s in ProjectState if s in reachable]


class MembershipForm(forms.Form):
    """Give an existing user a role in the organisation, or change the role they hold."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args: Any, may_grant_network_admin: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        # Network admin acts on the whole network, so only a network admin may hand it out.
        role_field.choices = [
            (role.value, role.label)
            for role in Role
            if role is not Role.NETWORK_ADMIN or may_grant_network_admin
        ]


class RemoveMemberForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.HiddenInput)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Say where the token is used, so you can tell tokens apart later."),
    )
    days = forms.IntegerField(
        label=_("Lifetime in days"),
        min_value=1,
        max_value=3650,
        help_text=_("Between 1 and 3650 days."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.API_TOKEN_DAYS
