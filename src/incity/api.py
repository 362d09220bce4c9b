"""The HTTP API at /api/v1/: one NinjaAPI, routers from each app, one error shape."""

from __future__ import annotations

from typing import Any

import msgspec
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from incity import __version__
from incity.accounts.models import User
from incity.accounts.services import user_for_token
from incity.errors import IncityError


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`; a bad token is refused with the reason, not skipped."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = user_for_token(token)
        request.user = user
        return user


class MsgspecParser(Parser):
    """Request bodies decoded by msgspec: a batch of 1,000 submissions is some 2 MB of
    JSON, which the standard library decodes three times slower. A body that is not
    JSON is answered 400 by ninja, as before."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(request.body)
        return decoded


api = NinjaAPI(
    parser=MsgspecParser(),
    title="incity API",
    version="1",
    description=(
        "Evidence, plans and peer learning for inclusive cities. Authenticate with a "
        "session cookie (web) or `Authorization: Bearer <token>`. Every error has the "
        'shape `{"message": ..., "extra": {...}}`.'
    ),
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, message: str, **extra: Any) -> HttpResponse:
    response = api.create_response(request, {"message": message, "extra": extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="incity"'
    return response


@api.exception_handler(IncityError)
def _incity_error(request: HttpRequest, error: IncityError) -> HttpResponse:
    return _error(request, error.status, error.message, **error.extra)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")


def _field_name(location: tuple[Any, ...]) -> str:
    # ninja prefixes the source ("body", "query", "path") and the schema's parameter name.
    parts = [
        str(part)
        for part in location
        if part not in ("body", "query", "path", "payload", "filters")
    ]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    problems = [
        {
            "field": _field_name(tuple(item.get("loc", ()))),
            "message": str(item.get("msg", "invalid")),
        }
        for item in error.errors
    ]
    first = problems[0] if problems else {"field": "request", "message": "invalid"}
    return _error(
        request,
        422,
        f"{first['field']}: {first['message']}",
        field=first["field"],
        errors=problems,
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(
        request,
        413,
        f"The request body is larger than the {limit / 1024 / 1024:g} MB limit "
        "(INCITY_MAX_REQUEST_MB); send fewer submissions per batch.",
        limit_bytes=limit,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return _error(request, error.status_code, str(error))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _error(request, 404, str(error) or "Not found.")


@api.get("/version", auth=None, tags=["meta"])
def version(request: HttpRequest) -> dict[str, str]:
    return {"version": __version__}


def _mount_routers() -> None:
    from incity.accounts.api import router as accounts_router
    from incity.analysis.margins_api import router as margins_router
    from incity.analysis.tables_api import router as tables_router
    from incity.exports.api import router as exports_router
    from incity.fieldwork.api import router as fieldwork_router
    from incity.frameworks.api import router as frameworks_router
    from incity.maps.api import router as maps_router
    from incity.places.api import router as places_router
    from incity.surveys.api import router as surveys_router
    from incity.surveys.submissions_api import router as submissions_router

    api.add_router("/", accounts_router)
    api.add_router("/frameworks", frameworks_router)
    api.add_router("/", surveys_router)
    api.add_router("/", submissions_router)
    api.add_router("/", places_router)
    api.add_router("/", tables_router)
    api.add_router("/", margins_router)
    api.add_router("/", exports_router)
    api.add_router("/", fieldwork_router)
    api.add_router("/", maps_router)


_mount_routers()
