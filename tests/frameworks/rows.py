"""Row counts that tests compare before and after a refused request."""

from __future__ import annotations

from incity.accounts.models import AuditEvent
from incity.frameworks.models import Crosswalk, CrosswalkLink, Framework, FrameworkItem


def row_counts() -> dict[str, int]:
    return {
        "frameworks": Framework.objects.count(),
        "items": FrameworkItem.objects.count(),
        "crosswalks": Crosswalk.objects.count(),
        "links": CrosswalkLink.objects.count(),
        "audit": AuditEvent.objects.count(),
    }
