"""Serving a project's plan image to map questions (the collection app and its offline cache)."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from incity.errors import NotFound
from incity.places.queries import plan_image_by_hash


@require_safe
def plan_image(request: HttpRequest, project: str, sha256: str, suffix: str) -> FileResponse:
    """Anyone with the URL may load it, like a map tile: the URL holds the image's SHA-256,
    which the map context hands only to people who may open the project's forms."""
    try:
        plan = plan_image_by_hash(project, sha256)
    except NotFound:
        raise Http404("No such plan image.") from None
    response = FileResponse(plan.file.open("rb"), content_type=plan.content_type)
    # The content never changes under this URL (it names the hash).
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
