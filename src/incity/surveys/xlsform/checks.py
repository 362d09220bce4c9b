"""pyxform's conversion and incity's own checks run on a read form, located on the sheets."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import DefinitionData

from incity.surveys.definition import FormDefinition
from incity.surveys.formcheck import check_definition
from incity.surveys.xlsform.errors import XLSFormError, _located, _one_line
from incity.surveys.xlsform.vocabulary import CHOICES, SURVEY, _safe_name

_NAMED_QUESTION = re.compile(r"\b(?:[Qq]uestion|survey element named) '([^']+)'")
_ROW_PREFIX = re.compile(r"^\[row\s*:\s*(\d+)\]\s*")
_SHEET_COLUMN = re.compile(r"^On the '([^']+)' sheet, (the '([^']*)' value)")


def _from_pyxform(
    exc: BaseException,
    rows_by_name: Mapping[str, int] | None = None,
    rows_to_names: Mapping[int, str] | None = None,
) -> XLSFormError:
    """pyxform's '[row : N] ...' message as an XLSFormError with sheet, row and column.

    `rows_by_name` places messages that name a question but no row; `rows_to_names` is
    for a definition being written out, whose rows are ours: the question is named instead.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else "pyxform could not convert the form."
    more = sum(1 for line in lines[1:] if _ROW_PREFIX.match(line))
    sheet, row, column, detail = _pyxform_location(first)
    context = getattr(exc, "context", None) or {}
    sheet = sheet or context.get("sheet")
    column = column or context.get("column")
    if more:
        detail = f"{detail.rstrip('.')}. ({more} more like this.)"
    if rows_to_names is not None:
        name = rows_to_names.get(row) if sheet == SURVEY and row is not None else None
        prefix = f"question '{name}': " if name else ""
        return XLSFormError(f"The form cannot be made into an XForm: {prefix}{detail}")
    named = _NAMED_QUESTION.search(detail)
    if row is None and named and rows_by_name and named.group(1) in rows_by_name:
        sheet, row = SURVEY, rows_by_name[named.group(1)]
    return XLSFormError(detail, sheet, row, column)


def _pyxform_location(message: str) -> tuple[str | None, int | None, str | None, str]:
    sheet = column = None
    row = None
    detail = message
    match = _ROW_PREFIX.match(detail)
    if match:
        row = int(match.group(1))
        detail = detail[match.end() :]
    located = _SHEET_COLUMN.match(detail)
    if located:
        sheet, column = located.group(1), located.group(3) or None
        detail = detail[located.start(2) :]
    headers = re.match(r"^Invalid headers provided for sheet: '([^']+)'", detail)
    if headers:
        sheet, row = headers.group(1), 1
    if row is not None and sheet is None:
        sheet = SURVEY
    return sheet, row, column, detail


def _pyxform_warning(warning: str) -> str:
    lines = [line.strip() for line in warning.splitlines() if line.strip()]
    text = " ".join(line for line in lines if not line.startswith("{"))
    sheet, row, column, detail = _pyxform_location(text)
    return _located(detail, sheet, row, column)


def _run_pyxform(sheets: DefinitionData, stem: str, rows_by_name: Mapping[str, int]) -> list[str]:
    """Convert the workbook as uploaded, so anything ODK would refuse is refused now."""
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import workbook_to_json

    warnings: list[str] = []
    try:
        tree = workbook_to_json(
            workbook_dict=sheets, fallback_form_name=_safe_name(stem), warnings=warnings
        )
        create_survey_element_from_dict(tree).to_xml(validate=False, warnings=warnings)
    except PyXFormError as exc:
        raise _from_pyxform(exc, rows_by_name) from exc
    except Exception as exc:  # a pyxform bug on odd input must not surface as a traceback
        raise XLSFormError(
            f"The XLSForm converter failed on this form ({type(exc).__name__}: {_one_line(str(exc))})."
        ) from exc
    return [_pyxform_warning(warning) for warning in warnings]


def _run_formcheck(
    definition: FormDefinition, rows_by_name: Mapping[str, int], list_rows: Mapping[str, int]
) -> None:
    """incity's own checks (references, cycles, ...), located back on the sheets."""
    problems = check_definition(definition)
    if not problems:
        return
    problem = problems[0]
    # formcheck's messages read "name (field): detail"; the location says that here.
    detail = re.sub(rf"^.*? \({re.escape(problem.field)}\): ", "", problem.message, count=1)
    others = len(problems) - 1
    more = f" ({others} more problem{'s' if others > 1 else ''}.)" if others else ""
    if problem.name in rows_by_name:
        column = {"list_name": "type", "children": "type"}.get(problem.field, problem.field)
        raise XLSFormError(detail + more, SURVEY, rows_by_name[problem.name], column or None)
    if problem.name in list_rows:
        raise XLSFormError(
            f"choice list '{problem.name}': {detail}{more}", CHOICES, list_rows[problem.name]
        )
    raise XLSFormError(problem.message + more)
