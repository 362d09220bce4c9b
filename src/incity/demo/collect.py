"""The demo's collection app: the DiPS demo form's public link switched on.

The demo loader calls `load_demo_collection()` after `load_demo_surveys()`. It
prints nothing: the link's address is shown to the demo lead on the form's
"Public link" page (/collect/demo-survey/dips_demo/link), never on a console.
"""

from __future__ import annotations

from django.conf import settings

from incity.accounts.audit import Origin
from incity.collect.services import enable_public_link
from incity.demo.surveys import FORM_ID, PROJECT_SLUG
from incity.errors import Conflict, Forbidden
from incity.surveys.models import Form

ORIGIN = Origin(channel="demo")


def load_demo_collection() -> None:
    """Switch on the demo form's public link (idempotent: an existing link is left as it is)."""
    if not settings.DEMO_MODE:
        raise Forbidden("The demo collection loads only in demo mode (INCITY_DEMO_MODE=true).")
    form = Form.objects.filter(project__slug=PROJECT_SLUG, form_id=FORM_ID).first()
    if form is None:
        raise Conflict(f"The demo form '{FORM_ID}' is missing; load the demo surveys first.")
    enable_public_link(acting_user=None, origin=ORIGIN, form=form)
