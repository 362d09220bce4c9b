"""XLSForm / ODK XPath expressions: parse once, evaluate many times.

The `relevant`, `constraint`, `calculation`, `choice_filter`, `repeat_count`
and dynamic `default` columns of a form definition (see `definition.py`) hold
expressions in the dialect XLSForm writes and ODK Collect and Enketo evaluate:

* `${name}` refers to the question called `name`; `.` is the value being
  checked (in a constraint), `..` its repeat instance (for `position(..)`);
* a bare name (`country`) is a column of the choice being filtered (in a
  `choice_filter`); `current()` is the question itself there;
* paths such as `/data/group/age` or `../age` are accepted and resolved by
  their last step, which is unambiguous because names are unique in a form;
* operators `or and = != < <= > >= + - * div mod | ` and unary minus,
  parentheses, string literals in '...' or "..." (XPath has no escapes),
  numbers (no exponent), and the functions in `FUNCTIONS`.

Semantics follow XPath 1.0 with the ODK (JavaRosa) extensions:

* A reference is a node-set (`NodeSet`): one string per node. Outside a repeat a
  question gives one node, the empty string when unanswered; a question in a
  repeat gives, from outside that repeat, one node per instance (so `count()`,
  `sum()`, `max()` work), and from inside, only the current instance's value.
* Comparisons with a node-set are existential (true if some node compares
  true); `=`/`!=` compare as booleans, else numbers, else strings;
  `< <= > >=` always compare numbers.
* `number('')` and `number('abc')` are NaN, and every comparison with NaN is
  false, so `${age} > 20` is false while `age` is unanswered.
* Like JavaRosa (and unlike plain XPath) a node-set holding a single empty
  node is false (`boolean(${unanswered})` is false).
* Dates are strings `YYYY-MM-DD` (`today()`, date answers); converted to a
  number they give days since 1970-01-01 (fractional for date-times), so
  `. <= today()` and `decimal-date-time()` work as in Collect.
* `regex(value, pattern)` is true when the pattern matches anywhere in the
  value (as in JavaRosa and Enketo); anchor it with `^...$` for a full match.

`parse()` builds a small typed AST (cached per expression string); `evaluate()`
runs a closure tree compiled once from it (also cached), so validating
thousands of submissions costs no parsing at all.

The package's modules, each importing only those listed before it:
`values` (NodeSet, conversions), `syntax` (the AST), `context` (EvalContext),
`tokenizer`, `dates` and `functions` (the FUNCTIONS table), `parser`
(parse, references) and `compiler` (evaluate, check). Import from the package,
not from its modules: the modules are how the code is laid out, not an API.
"""

from __future__ import annotations

from incity.surveys.expressions.compiler import Evaluator, check, evaluate, xpath_div, xpath_mod
from incity.surveys.expressions.context import EvalContext
from incity.surveys.expressions.functions import FUNCTIONS, FunctionSpec, Impl, check_regex
from incity.surveys.expressions.parser import (
    MAX_LENGTH,
    MAX_NESTING,
    VOLATILE_FUNCTIONS,
    bare_names,
    function_names,
    is_volatile,
    parse,
    references,
)
from incity.surveys.expressions.syntax import (
    And,
    Bare,
    Call,
    Chain,
    Current,
    Expr,
    Literal,
    Negate,
    Or,
    Parent,
    PathRef,
    Ref,
    Union,
)
from incity.surveys.expressions.values import (
    NAN,
    ExpressionError,
    NodeSet,
    Value,
    node_string,
    number_to_string,
    to_number,
    to_string,
    truthy,
)

__all__ = [
    "FUNCTIONS",
    "MAX_LENGTH",
    "MAX_NESTING",
    "NAN",
    "VOLATILE_FUNCTIONS",
    "And",
    "Bare",
    "Call",
    "Chain",
    "Current",
    "EvalContext",
    "Evaluator",
    "Expr",
    "ExpressionError",
    "FunctionSpec",
    "Impl",
    "Literal",
    "Negate",
    "NodeSet",
    "Or",
    "Parent",
    "PathRef",
    "Ref",
    "Union",
    "Value",
    "bare_names",
    "check",
    "check_regex",
    "evaluate",
    "function_names",
    "is_volatile",
    "node_string",
    "number_to_string",
    "parse",
    "references",
    "to_number",
    "to_string",
    "truthy",
    "xpath_div",
    "xpath_mod",
]
