"""Domain errors raised by services and access helpers.

The API turns them into `{"message": ..., "extra": {...}}` with a 4xx status,
the CLI into one line on stderr and a non-zero exit, the web views into an
error page. Each message names what is wrong in words a user understands.
"""

from __future__ import annotations

from typing import Any


class IncityError(Exception):
    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidInput(IncityError):
    status = 422

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        super().__init__(message, field=field, **extra)
        self.field = field


class NotFound(IncityError):
    status = 404


class Forbidden(IncityError):
    status = 403


class Conflict(IncityError):
    status = 409


class Unauthenticated(IncityError):
    status = 401
