"""Validation of submitted answers against a form definition, and the typed answer table.

Answers are keyed by element name (see `definition.py`): groups are transparent,
a repeat's answer is a list of objects keyed the same way, a map_marks answer is
a list of marks. `validate_answers()` checks and normalises them; every error is
keyed by the path of the answer it concerns:

    "age"                          a question
    "household[2].member_age"      a question in the 2nd entry of a repeat (1-based)
    "household[2]"                 a repeat entry itself
    "places[1].category"           a field of the 1st mark of a map_marks answer
    "__all__"                      the answers as a whole (not an object)

Order of work: (1) each answer's type is checked and normalised (integers to
int, decimals to float, ODK geo strings to GeoJSON, ODK space-separated
multiple choices to lists); (2) calculations are computed; (3) relevance,
required answers, constraints, choice filters and repeat counts are checked
against the normalised answers. All errors are collected, none stops the rest.

`typed_values()` flattens normalised answers into rows for the typed answer
table, and `split_sensitive()` / `merge_sensitive()` take the sensitive answers
out (to be stored encrypted) and put them back.

Modules: form.py (`prepare`: the definition indexed once), values.py (one answer
checked by its type), compiled.py (what can be decided once per form: each
question's checker, and which questions need step 3 at all), run.py (one
validation), typed.py and sensitive.py.
"""

from incity.surveys.validation.form import (
    FORM_ERROR_KEY,
    PreparedForm,
    TypedValue,
    ValidationResult,
    prepare,
)
from incity.surveys.validation.run import validate_answers
from incity.surveys.validation.sensitive import merge_sensitive, split_sensitive
from incity.surveys.validation.typed import typed_values
from incity.surveys.validation.values import (
    MARK_KEYS,
    MAX_FILE_NAME,
    MAX_GEOMETRY_POSITIONS,
    MAX_INTEGER,
    MAX_PLACE_DESCRIPTION,
    parse_range_parameters,
)

__all__ = [
    "FORM_ERROR_KEY",
    "MARK_KEYS",
    "MAX_FILE_NAME",
    "MAX_GEOMETRY_POSITIONS",
    "MAX_INTEGER",
    "MAX_PLACE_DESCRIPTION",
    "PreparedForm",
    "TypedValue",
    "ValidationResult",
    "merge_sensitive",
    "parse_range_parameters",
    "prepare",
    "split_sensitive",
    "typed_values",
    "validate_answers",
]
