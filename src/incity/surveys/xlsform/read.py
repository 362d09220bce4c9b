"""`read_xlsform`: an uploaded XLSForm read, checked and returned as an `ImportedForm`."""

from __future__ import annotations

from dataclasses import dataclass

from incity.surveys.definition import FormDefinition
from incity.surveys.xlsform.checks import _run_formcheck, _run_pyxform
from incity.surveys.xlsform.errors import XLSFormError, _one_line
from incity.surveys.xlsform.reader import _Reader
from incity.surveys.xlsform.required import required_files
from incity.surveys.xlsform.sheets import _file_kind, _read_sheets


@dataclass(frozen=True)
class ImportedForm:
    definition: FormDefinition
    warnings: list[str]
    required_files: list[str]


def read_xlsform(data: bytes, filename: str) -> ImportedForm:
    """Read an XLSForm (.xlsx, .xls, .csv or .md, by the file name's suffix) into a definition.

    Raises XLSFormError, naming sheet, row and column, for anything incity or pyxform refuses.
    """
    kind = _file_kind(data, filename)
    sheets = _read_sheets(data, kind)
    reader = _Reader(sheets, filename)
    try:
        definition = reader.read()
    except XLSFormError:
        raise
    except Exception as exc:  # a reader bug must still come out as a refusal, not a traceback
        raise XLSFormError(
            f"The form could not be read ({type(exc).__name__}: {_one_line(str(exc))})."
        ) from exc
    warnings = [*reader.warnings, *_run_pyxform(sheets, reader.stem, reader.rows_by_name)]
    _run_formcheck(definition, reader.rows_by_name, reader.list_rows)
    return ImportedForm(
        definition=definition,
        warnings=list(dict.fromkeys(warnings)),
        required_files=required_files(definition),
    )
