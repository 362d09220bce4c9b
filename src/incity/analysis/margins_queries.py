"""Guarded reads of population margins, and the choice questions they may refer to."""

from __future__ import annotations

from incity.accounts import access
from incity.accounts.models import Project, User
from incity.accounts.permissions import ProjectAction
from incity.analysis.estimation.spec import Margin
from incity.analysis.models import PopulationMargin
from incity.surveys.definition import is_sensitive, walk
from incity.surveys.models import FormVersion
from incity.surveys.queries import project_sensitive_names

SINGLE_CHOICE = ("select_one", "select_one_from_file")


def list_margins(user: User, project_slug: str) -> tuple[Project, list[PopulationMargin]]:
    project = access.get_project(user, project_slug, ProjectAction.VIEW_PROJECT)
    return project, list(PopulationMargin.objects.filter(project=project))


def margins_of(project: Project) -> list[Margin]:
    """The project's margins as the estimation engine takes them, one per variable."""
    grouped: dict[str, dict[str, float]] = {}
    for variable, level, total in PopulationMargin.objects.filter(project=project).values_list(
        "variable", "level", "total"
    ):
        grouped.setdefault(variable, {})[level] = total
    return [Margin(variable=v, totals=totals) for v, totals in sorted(grouped.items())]


def project_choices(project: Project) -> dict[str, list[str]]:
    """Single-choice questions (outside repeats) of the project's published forms, with choices.

    Sensitive questions are left out: their answers never reach the typed answers, so no
    estimate could be weighted to them.
    """
    found: dict[str, list[str]] = {}
    sensitive = set(project_sensitive_names(project))
    definitions = FormVersion.objects.filter(form__project=project).order_by("form_id", "number")
    for definition in definitions.values_list("definition", flat=True):
        for element, parents in walk(definition["children"]):
            if element["type"] not in SINGLE_CHOICE or is_sensitive(element):
                continue
            if element["name"] in sensitive:
                continue
            if any(parent["type"] == "repeat" for parent in parents):
                continue
            names = [c["name"] for c in definition["choices"].get(element.get("list_name", ""), [])]
            known = found.setdefault(element["name"], [])
            known.extend(name for name in names if name not in known)
    return found
