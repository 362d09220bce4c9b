"""Template context shared by every page: the current organisation and the synthetic-data label."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from incity.accounts.models import Organisation
from incity.web.current import current_organisation, my_organisations


def incity_context(request: HttpRequest) -> dict[str, object]:
    organisations: list[Organisation] = my_organisations(request)
    return {
        "demo_mode": settings.DEMO_MODE,
        # Shown on every page while the instance holds generated demo data.
        "shows_synthetic_data": settings.DEMO_MODE
        or Organisation.objects.filter(is_synthetic=True).exists(),
        "my_organisations": organisations,
        "current_organisation": current_organisation(request),
    }
