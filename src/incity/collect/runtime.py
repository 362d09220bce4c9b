"""The collection app's runtime: a published form version as JSON, expressions pre-parsed.

The browser gets every expression of the definition (relevant, constraint,
calculation, choice_filter, repeat_count, required when it is an expression,
dynamic defaults) already parsed by `surveys.expressions` into a small JSON
tree, so the app needs an evaluator (static/collect/expr.js) but no parser,
and both sides read an expression the same way.

The tree, one object per node of `expressions.Expr`:

    {"t": "lit", "v": 3.0 | "text"}       Literal
    {"t": "ref", "n": "age"}              ${age}, or a path resolved by its last step
    {"t": "cur"}  {"t": "par"}            .  and ..
    {"t": "bare", "n": "county"}          a choice column in a choice_filter
    {"t": "neg", "c": 1, "e": node}       unary minus, c times
    {"t": "chain", "e": node, "r": [[op, node], ...]}
    {"t": "or" | "and" | "union", "a": [node, ...]}
    {"t": "call", "f": "selected", "a": [node, ...]}
"""

from __future__ import annotations

from typing import Any

from incity.accounts.models import Project
from incity.surveys import expressions
from incity.surveys.definition import (
    Element,
    FormDefinition,
    is_right_to_left,
    language_code,
    walk,
)
from incity.surveys.expressions import (
    And,
    Bare,
    Chain,
    Current,
    Expr,
    ExpressionError,
    Literal,
    Negate,
    Or,
    Parent,
    PathRef,
    Ref,
    Union,
)
from incity.surveys.models import Form, FormVersion

# Element keys that hold expressions (required and default only sometimes do).
EXPRESSION_KEYS = ("relevant", "constraint", "calculation", "choice_filter", "repeat_count")
# `required` words that are not expressions (as surveys/validation reads them).
_REQUIRED_WORDS = frozenset({"", "yes", "no", "true", "false", "true()", "false()", "1", "0"})

JsonAst = dict[str, Any]


def ast_json(node: Expr) -> JsonAst:
    """One expression tree as plain JSON (see the module docstring)."""
    if isinstance(node, Literal):
        return {"t": "lit", "v": node.value}
    if isinstance(node, Ref | PathRef):
        return {"t": "ref", "n": node.name}
    if isinstance(node, Current):
        return {"t": "cur"}
    if isinstance(node, Parent):
        return {"t": "par"}
    if isinstance(node, Bare):
        return {"t": "bare", "n": node.name}
    if isinstance(node, Negate):
        return {"t": "neg", "c": node.count, "e": ast_json(node.operand)}
    if isinstance(node, Chain):
        return {
            "t": "chain",
            "e": ast_json(node.first),
            "r": [[op, ast_json(operand)] for op, operand in node.rest],
        }
    if isinstance(node, Or):
        return {"t": "or", "a": [ast_json(item) for item in node.operands]}
    if isinstance(node, And):
        return {"t": "and", "a": [ast_json(item) for item in node.operands]}
    if isinstance(node, Union):
        return {"t": "union", "a": [ast_json(item) for item in node.operands]}
    return {"t": "call", "f": node.name, "a": [ast_json(item) for item in node.args]}


def parse_to_json(expression: str) -> JsonAst:
    """The JSON tree of `expression`, or {"t": "error", "m": message} when it does not parse
    (a published form's expressions all parse; the app treats an error node as unknown)."""
    try:
        return ast_json(expressions.parse(expression))
    except ExpressionError as error:
        return {"t": "error", "m": str(error)}


def _is_dynamic_default(text: str) -> bool:
    """XLSForm treats a default with ${...} or a function call as an expression."""
    return "${" in text or "(" in text


def expression_table(definition: FormDefinition) -> dict[str, JsonAst]:
    """Every distinct expression text in the definition, parsed: the app looks trees up by text."""
    table: dict[str, JsonAst] = {}
    for element, _ in walk(definition["children"]):
        for text in _expressions_of(element):
            if text not in table:
                table[text] = parse_to_json(text)
    return table


def _expressions_of(element: Element) -> list[str]:
    found = [str(element.get(key) or "").strip() for key in EXPRESSION_KEYS]
    required = element.get("required")
    if isinstance(required, str) and required.strip().lower() not in _REQUIRED_WORDS:
        found.append(required.strip())
    default = str(element.get("default") or "").strip()
    if default and _is_dynamic_default(default):
        found.append(default)
    return [text for text in found if text]


def language_info(key: str) -> dict[str, Any]:
    """What the app needs to offer a form language: its key, code, direction and a name."""
    code = language_code(key)
    name = key.split("(")[0].strip() or key
    return {"key": key, "code": code, "rtl": is_right_to_left(key), "name": name}


def map_context(project: Project) -> Any:
    """The maps helper's context (basemap, boundary, named places) for the map questions.

    `incity.places.queries.map_context` is written with the map questions; while
    a checkout lacks it, the app gets None and shows map questions' text alternative only.
    """
    try:
        from incity.places import queries as place_queries
    except ImportError:
        return None
    provider = getattr(place_queries, "map_context", None)
    if provider is None:
        return None
    return provider(project)


def runtime_json(form: Form, version: FormVersion, *, public: bool) -> dict[str, Any]:
    """Everything the app needs to run `version` offline."""
    definition: FormDefinition = version.definition
    return {
        "form": {
            "project": form.project.slug,
            "form_id": form.form_id,
            "title": definition.get("title") or form.title,
            "version": version.number,
            "content_hash": version.content_hash,
            "is_synthetic": bool(form.is_synthetic or form.project.is_synthetic),
            "public": public,
        },
        "definition": definition,
        "languages": [language_info(key) for key in definition["languages"]],
        "default_language": definition["default_language"],
        "expressions": expression_table(definition),
        "consent": {
            "required": version.consent_required,
            "sheet": dict(version.consent_sheet or {}),
        },
        "map": map_context(form.project),
    }
