"""Small helpers the web tests share: making extra projects and reading pages."""

from __future__ import annotations

from django.http import HttpResponse

from incity.accounts import services
from incity.accounts.models import Organisation, Project
from incity.accounts.roles import ProjectState
from tests.personas import SYSTEM

# The path from a draft to each state, through the allowed transitions.
_PATH = {
    ProjectState.DRAFT: [],
    ProjectState.ACTIVE: [ProjectState.ACTIVE],
    ProjectState.CLOSED: [ProjectState.ACTIVE, ProjectState.CLOSED],
    ProjectState.ARCHIVED: [ProjectState.ARCHIVED],
}


def make_project(
    organisation: Organisation, slug: str, name: str, state: ProjectState = ProjectState.DRAFT
) -> Project:
    project = services.create_project(
        acting_user=None, origin=SYSTEM, organisation=organisation, slug=slug, name=name
    )
    for step in _PATH[state]:
        services.change_project_state(acting_user=None, origin=SYSTEM, project=project, state=step)
    return project


def html(response: HttpResponse) -> str:
    return response.content.decode()
