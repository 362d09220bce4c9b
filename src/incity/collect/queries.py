"""Guarded reads for the collection app: a form for a collector, a link's form, an editor's link.

Projects outside the user's organisations and unknown tokens answer *not found*;
a visible project where the role may not collect answers *forbidden*.
"""

from __future__ import annotations

from incity.accounts import access
from incity.accounts.access import AnyUser
from incity.accounts.permissions import ProjectAction
from incity.collect.models import PublicLink
from incity.errors import Conflict, Forbidden, NotFound
from incity.surveys.models import Form, FormStatus, FormVersion


def _form_in(project_slug: str, form_id: str, user: AnyUser, action: ProjectAction) -> Form:
    project = access.get_project(user, project_slug, action)
    form = (
        Form.objects.select_related("project", "project__organisation")
        .filter(project=project, form_id=form_id)
        .first()
    )
    if form is None:
        raise NotFound(f"No form '{form_id}' in the project '{project_slug}'.", form=form_id)
    return form


def form_for_collector(user: AnyUser, project_slug: str, form_id: str) -> Form:
    """The form, if the signed-in user may collect answers in its project now."""
    return _form_in(project_slug, form_id, user, ProjectAction.COLLECT)


def form_for_editor(user: AnyUser, project_slug: str, form_id: str) -> Form:
    """The form, if the user may change the project's forms (and so its public link)."""
    return _form_in(project_slug, form_id, user, ProjectAction.EDIT_PROJECT)


def link_for(project_slug: str, form_id: str, token: str) -> PublicLink:
    """The live public link with this token for this form; anything else reveals nothing."""
    link = (
        PublicLink.objects.select_related("form", "form__project", "form__project__organisation")
        .filter(token=token)
        .first()
        if token
        else None
    )
    if link is None or link.form.project.slug != project_slug or link.form.form_id != form_id:
        raise NotFound("This link is not known; check that it was copied whole.", form=form_id)
    if not link.is_live():
        raise Forbidden(
            "This link has been switched off by the project team; it takes no answers.",
            form=form_id,
        )
    return link


def existing_link(form: Form) -> PublicLink | None:
    return PublicLink.objects.filter(form=form).first()


def published_version(form: Form) -> FormVersion:
    """The version the app collects: the latest published one of an open form."""
    if form.status == FormStatus.CLOSED:
        raise Conflict(f"The form '{form.form_id}' is closed; it takes no answers.", form=form.pk)
    version = form.latest_version()
    if version is None or form.status != FormStatus.OPEN:
        raise Conflict(
            f"The form '{form.form_id}' has not been published; it takes no answers.", form=form.pk
        )
    return version
