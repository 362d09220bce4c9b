"""XLSForm in and out: read an uploaded XLSForm into a `FormDefinition`, write one back.

`read_xlsform` reads the sheets with pyxform's own readers (so cells are turned
into text exactly as pyxform sees them), builds the definition from the raw
rows itself (pyxform's JSON tree is lossy: it adds generated questions for
`repeat_count` expressions, table-lists and `or_other`, and drops the columns
it does not know), and then runs the original workbook through pyxform's
conversion so that every form incity accepts is one ODK Collect accepts too.
Each refusal is an `XLSFormError` naming the sheet, row and column.

`write_xlsform` and `to_xform` share one row writer, so that the file a user
downloads and the XForm the phones receive say the same thing, and so that
`read_xlsform(write_xlsform(d))` gives `d` back for every `d` read here.

Map marks (incity's own type, see `definition.py`) are written as a repeat
marked `incity_type = map_marks` with four fixed questions (`category`,
`geometry`, `time_of_day`, `comment`); the reader folds such a repeat back
into one element. ODK has no "point, line or area" type, so the geometry
question is a `geoshape` unless the element's parameters name one kind:
`geometry=point` gives a `geopoint`, `geometry=line` a `geotrace`.

Modules: errors.py (`XLSFormError` and its message), vocabulary.py (sheet, column and
type names and cell-text helpers), sheets.py (the file's kind and pyxform's sheets),
rows.py (columns and rows sorted into incity's fields), reader.py (rows to a
definition), checks.py (pyxform's conversion and incity's own checks), required.py
(files a form names), writer.py (`write_xlsform`, `to_xform`) and read.py
(`read_xlsform`).
"""

from incity.surveys.xlsform.errors import XLSFormError
from incity.surveys.xlsform.read import ImportedForm, read_xlsform
from incity.surveys.xlsform.required import required_files
from incity.surveys.xlsform.writer import to_xform, write_xlsform

__all__ = [
    "ImportedForm",
    "XLSFormError",
    "read_xlsform",
    "required_files",
    "to_xform",
    "write_xlsform",
]
