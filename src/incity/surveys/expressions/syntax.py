"""The typed AST `parse()` builds: one frozen dataclass per kind of node.

Separate because the parser builds it, the compiler consumes it, and the
collection runtime (`collect/runtime.py`) turns it into JSON for the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | float


@dataclass(frozen=True, slots=True)
class Ref:
    """`${name}`."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """`.` (or `current()`): the value being checked."""


@dataclass(frozen=True, slots=True)
class Parent:
    """`..`: only meaningful as the argument of `position()`."""


@dataclass(frozen=True, slots=True)
class Bare:
    """A bare name: a column of the choice being filtered."""

    name: str


@dataclass(frozen=True, slots=True)
class PathRef:
    """A path of several steps, resolved by its last step `name` (names are unique)."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Negate:
    """`count` unary minus signs before `operand` (an even count still converts to a number)."""

    operand: Expr
    count: int


@dataclass(frozen=True, slots=True)
class Chain:
    """Left-associative operators of one precedence level: `first op1 x1 op2 x2 ...`."""

    first: Expr
    rest: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Union:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]


Expr: TypeAlias = (
    "Literal | Ref | Current | Parent | Bare | PathRef | Negate | Chain | Or | And | Union | Call"
)
_NODE_EXPRS = (Ref, PathRef, Bare, Current, Union)


def _children(node: Expr) -> Iterator[Expr]:
    if isinstance(node, Negate):
        yield node.operand
    elif isinstance(node, Chain):
        yield node.first
        for _, operand in node.rest:
            yield operand
    elif isinstance(node, Or | And | Union):
        yield from node.operands
    elif isinstance(node, Call):
        yield from node.args


def _walk(node: Expr) -> Iterator[Expr]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(_children(current))
