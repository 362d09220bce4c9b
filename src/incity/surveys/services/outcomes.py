"""The refusal every submission path raises when answers do not validate."""

from __future__ import annotations

from incity.errors import InvalidInput


class SubmissionInvalid(InvalidInput):
    """422 with one message per field; nothing was stored."""

    def __init__(self, errors: dict[str, str]) -> None:
        count = len(errors)
        noun = "problem" if count == 1 else "problems"
        first_path, first_message = next(iter(errors.items()))
        super().__init__(
            first_path,
            f"The submission has {count} {noun}, nothing was stored; "
            f"first, {first_path}: {first_message}",
            errors=errors,
        )
        self.errors = errors
