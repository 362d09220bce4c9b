"""GET /healthz: 200 when every part answers, 503 naming the part that does not."""

from __future__ import annotations

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from incity import __version__


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return f"error: {type(error).__name__}"
    return "ok"


def _cache() -> str:
    try:
        cache.set("incity:healthz", "ok", 10)
        return "ok" if cache.get("incity:healthz") == "ok" else "error: cache did not keep a value"
    except Exception as error:  # any backend failure (Redis down, disk full) means unhealthy
        return f"error: {type(error).__name__}"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    parts = {"database": _database(), "cache": _cache()}
    failing = [name for name, state in parts.items() if state != "ok"]
    body: dict[str, object] = {
        "status": "ok" if not failing else "error",
        **parts,
        "version": __version__,
        "database_vendor": connection.vendor,
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)
