"""Compiling an AST into a tree of closures (cached per expression), `evaluate` and `check`.

The closures do the work of evaluation; operators and the functions whose
arguments are evaluated lazily (`if`, `coalesce`, `position`, `indexed-repeat`)
are compiled here, the others call their implementation from `FUNCTIONS`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeAlias

from incity.surveys.expressions.context import EvalContext
from incity.surveys.expressions.functions import FUNCTIONS, check_regex
from incity.surveys.expressions.parser import parse
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
    _walk,
)
from incity.surveys.expressions.tokenizer import _fail
from incity.surveys.expressions.values import (
    _NO_NODES,
    NAN,
    ExpressionError,
    NodeSet,
    Value,
    to_number,
    to_string,
    truthy,
)


def evaluate(expr: str, context: EvalContext) -> Value:
    """The value of `expr` in `context` (raises ExpressionError for unparsable expressions)."""
    return _compiled(expr)(context)


Evaluator: TypeAlias = Callable[[EvalContext], Value]


@functools.lru_cache(maxsize=4096)
def _compiled(expr: str) -> Evaluator:
    return _compile(parse(expr))


def _compile(node: Expr) -> Evaluator:
    if isinstance(node, Literal):
        constant: Value = node.value
        return lambda ctx: constant
    if isinstance(node, Ref | PathRef):
        name = node.name
        return lambda ctx: ctx.resolve(name)
    if isinstance(node, Current):
        return lambda ctx: ctx.dot()
    if isinstance(node, Parent):
        return lambda ctx: _NO_NODES
    if isinstance(node, Bare):
        column = node.name
        return lambda ctx: ctx.bare(column)
    if isinstance(node, Negate):
        operand = _compile(node.operand)
        if node.count % 2:
            return lambda ctx: -to_number(operand(ctx))
        return lambda ctx: to_number(operand(ctx))
    if isinstance(node, Or):
        ors = tuple(_compile(item) for item in node.operands)
        return lambda ctx: any(truthy(item(ctx)) for item in ors)
    if isinstance(node, And):
        ands = tuple(_compile(item) for item in node.operands)
        return lambda ctx: all(truthy(item(ctx)) for item in ands)
    if isinstance(node, Union):
        parts = tuple(_compile(item) for item in node.operands)
        return lambda ctx: _union([part(ctx) for part in parts])
    if isinstance(node, Chain):
        return _compile_chain(node)
    return _compile_call(node)


def _union(values: list[Value]) -> NodeSet:
    nodes: list[str] = []
    for value in values:
        if isinstance(value, NodeSet):
            nodes.extend(value)
        else:
            raise ExpressionError("'|' joins references to questions only")
    return NodeSet(nodes)


def _compile_chain(node: Chain) -> Evaluator:
    first = _compile(node.first)
    rest = tuple((_OPERATORS[op], _compile(operand)) for op, operand in node.rest)
    if len(rest) == 1:
        ((operator, second),) = rest

        def one(ctx: EvalContext) -> Value:
            return operator(first(ctx), second(ctx))

        return one

    def chain(ctx: EvalContext) -> Value:
        value = first(ctx)
        for operator, operand in rest:
            value = operator(value, operand(ctx))
        return value

    return chain


def _add(a: Value, b: Value) -> float:
    return to_number(a) + to_number(b)


def _subtract(a: Value, b: Value) -> float:
    return to_number(a) - to_number(b)


def _multiply(a: Value, b: Value) -> float:
    return to_number(a) * to_number(b)


def _divide(a: Value, b: Value) -> float:
    return xpath_div(to_number(a), to_number(b))


def _modulo(a: Value, b: Value) -> float:
    return xpath_mod(to_number(a), to_number(b))


def xpath_div(x: float, y: float) -> float:
    if y == 0:
        if x == 0 or x != x:
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def xpath_mod(x: float, y: float) -> float:
    """XPath mod: the remainder of truncating division (the sign of the dividend)."""
    if y == 0 or x != x or y != y or math.isinf(x):
        return NAN
    return math.fmod(x, y)


def _compare_atoms(op: str, a: str | float | bool, b: str | float | bool) -> bool:
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            same = truthy(a) == truthy(b)
        elif isinstance(a, float) or isinstance(b, float):
            same = to_number(a) == to_number(b)
        else:
            same = a == b
        return same if op == "=" else not same
    x = to_number(a)
    y = to_number(b)
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def _compare(op: str, a: Value, b: Value) -> bool:
    if isinstance(a, NodeSet):
        if isinstance(b, NodeSet):
            return any(_compare_atoms(op, x, y) for x in a for y in b)
        if isinstance(b, bool):
            return _compare_atoms(op, truthy(a), b)
        return any(_compare_atoms(op, x, b) for x in a)
    if isinstance(b, NodeSet):
        if isinstance(a, bool):
            return _compare_atoms(op, a, truthy(b))
        return any(_compare_atoms(op, a, y) for y in b)
    return _compare_atoms(op, a, b)


_OPERATORS: dict[str, Callable[[Value, Value], Value]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "div": _divide,
    "mod": _modulo,
    "=": functools.partial(_compare, "="),
    "!=": functools.partial(_compare, "!="),
    "<": functools.partial(_compare, "<"),
    "<=": functools.partial(_compare, "<="),
    ">": functools.partial(_compare, ">"),
    ">=": functools.partial(_compare, ">="),
}


def _compile_call(node: Call) -> Evaluator:
    name = node.name
    args = tuple(_compile(arg) for arg in node.args)
    if name == "if":
        condition, then, otherwise = args
        return lambda ctx: then(ctx) if truthy(condition(ctx)) else otherwise(ctx)
    if name == "coalesce":

        def coalesce(ctx: EvalContext) -> Value:
            for arg in args:
                value = arg(ctx)
                if to_string(value) != "":
                    return value
            return ""

        return coalesce
    if name == "position":
        if not node.args or isinstance(node.args[0], Parent | Current):
            return lambda ctx: ctx.position()
        target = node.args[0]
        if isinstance(target, Ref | PathRef | Bare):
            repeat = target.name
            return lambda ctx: ctx.position(repeat)
        return lambda ctx: NAN
    if name == "indexed-repeat":
        return _compile_indexed_repeat(node)
    spec = FUNCTIONS[name]
    impl = spec.impl
    assert impl is not None
    if not args:
        return lambda ctx: impl(ctx, [])
    if len(args) == 1:
        (only,) = args
        return lambda ctx: impl(ctx, [only(ctx)])
    return lambda ctx: impl(ctx, [arg(ctx) for arg in args])


def _compile_indexed_repeat(node: Call) -> Evaluator:
    target = node.args[0]
    if not isinstance(target, Ref | PathRef | Bare):
        raise ExpressionError("indexed-repeat() needs a reference to a question first")
    question = target.name
    groups: list[str] = []
    indexes: list[Evaluator] = []
    rest = node.args[1:]
    for position in range(0, len(rest) - 1, 2):
        group = rest[position]
        if not isinstance(group, Ref | PathRef | Bare):
            raise ExpressionError("indexed-repeat() needs references to repeats")
        groups.append(group.name)
        indexes.append(_compile(rest[position + 1]))

    def indexed(ctx: EvalContext) -> Value:
        scope: list[tuple[str, int]] = []
        for group, index in zip(groups, indexes, strict=True):
            number = to_number(index(ctx))
            if not math.isfinite(number):
                return _NO_NODES
            scope.append((group, int(number) - 1))
        return ctx.derive(scope=tuple(scope)).resolve(question)

    return indexed


def check(expr: str) -> None:
    """Parse and compile `expr`, and compile its literal regex patterns; raise ExpressionError."""
    _compiled(expr)
    for node in _walk(parse(expr)):
        if isinstance(node, Call) and node.name == "regex" and len(node.args) == 2:
            pattern = node.args[1]
            if isinstance(pattern, Literal) and isinstance(pattern.value, str):
                problem = check_regex(pattern.value)
                if problem:
                    raise _fail(problem, expr)
