"""`XLSFormError`: a refused XLSForm, its one-line message naming sheet, row and column."""

from __future__ import annotations

import re

from incity.errors import InvalidInput


class XLSFormError(InvalidInput):
    """An XLSForm incity refuses; the message is one line naming sheet, row and column."""

    def __init__(
        self,
        message: str,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(
            "file",
            _located(message, sheet, row, column),
            sheet=sheet,
            row=row,
            column=column,
        )
        self.sheet = sheet
        self.row = row
        self.column = column


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _located(message: str, sheet: str | None, row: int | None, column: str | None) -> str:
    parts = []
    if sheet:
        parts.append(f"{sheet} sheet")
    if row is not None:
        parts.append(f"row {row}")
    if column:
        parts.append(f"column {column}")
    detail = _one_line(message)
    if not detail.endswith((".", "?", "!", ")")):
        detail += "."
    if not parts:
        return detail[:1].upper() + detail[1:]
    # Lower-case a leading capitalised word ("The ...") so the sentence reads on after the colon.
    if re.match(r"^[A-Z][a-z]", detail):
        detail = detail[:1].lower() + detail[1:]
    return f"{', '.join(parts)}: {detail}"
