"""The recursive-descent parser (`parse`) and the questions about an expression's
AST that need no evaluation (`references`, `bare_names`, `is_volatile`).

Separate from the compiler: forms are checked and their references found
without ever evaluating them.
"""

from __future__ import annotations

import functools

from incity.surveys.expressions.functions import FUNCTIONS, _question_name
from incity.surveys.expressions.syntax import (
    _NODE_EXPRS,
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
from incity.surveys.expressions.tokenizer import _fail, _Token, _tokenize
from incity.surveys.expressions.values import ExpressionError

# How deep parentheses and function calls may nest; far beyond any real form,
# and low enough that parsing and evaluation stay well inside Python's stack.
MAX_NESTING = 32
MAX_LENGTH = 10_000


_LEVELS: dict[str, int] = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}


class _Parser:
    __slots__ = ("depth", "expr", "index", "tokens")

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def unexpected(self, token: _Token) -> ExpressionError:
        if token.kind == "end":
            return _fail("unexpected end of expression", self.expr)
        return _fail(f"unexpected '{token.text}' at character {token.pos + 1}", self.expr)

    def expect(self, kind: str) -> _Token:
        token = self.peek()
        if token.kind != kind:
            if token.kind == "end":
                raise _fail(f"expected '{kind}' but the expression ended", self.expr)
            raise _fail(
                f"expected '{kind}' but found '{token.text}' at character {token.pos + 1}",
                self.expr,
            )
        return self.advance()

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression")
        node = self.binary(1)
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        return node

    def binary(self, min_level: int) -> Expr:
        left = self.unary()
        while True:
            token = self.peek()
            level = _LEVELS.get(token.text) if token.kind == "op" else None
            if level is None or level < min_level:
                return left
            rest: list[tuple[str, Expr]] = []
            while token.kind == "op" and _LEVELS.get(token.text) == level:
                self.advance()
                rest.append((token.text, self.binary(level + 1)))
                token = self.peek()
            if level == 1:
                left = Or((left, *(operand for _, operand in rest)))
            elif level == 2:
                left = And((left, *(operand for _, operand in rest)))
            else:
                left = Chain(left, tuple(rest))

    def unary(self) -> Expr:
        count = 0
        while self.peek().kind == "op" and self.peek().text == "-":
            self.advance()
            count += 1
        operand = self.union()
        return Negate(operand, count) if count else operand

    def union(self) -> Expr:
        first = self.path()
        if not (self.peek().kind == "op" and self.peek().text == "|"):
            return first
        operands = [first]
        while self.peek().kind == "op" and self.peek().text == "|":
            token = self.advance()
            operands.append(self.path())
            if not all(isinstance(operand, _NODE_EXPRS) for operand in operands):
                raise _fail(
                    f"'|' joins references to questions only (character {token.pos + 1})",
                    self.expr,
                )
        return Union(tuple(operands))

    def path(self) -> Expr:
        token = self.peek()
        start = token.pos
        if token.kind in ("/", "//"):
            self.advance()
            if self.peek().kind not in ("name", ".", "..", "*", "@"):
                # A lone '/' is the document root, which no form expression needs.
                raise self.unexpected(self.peek())
            return self.steps(start, [], absolute=True)
        if token.kind == "name" and self.tokens[self.index + 1].kind != "(":
            return self.steps(start, [], absolute=False)
        if token.kind in (".", "..", "*", "@"):
            return self.steps(start, [], absolute=False)
        node = self.primary()
        if self.peek().kind == "[":
            raise self.predicates(self.peek())
        if self.peek().kind in ("/", "//"):
            if not isinstance(node, Current):
                raise self.unexpected(self.peek())
            self.advance()
            return self.steps(start, ["current()"], absolute=False)
        return node

    def predicates(self, token: _Token) -> ExpressionError:
        return _fail(f"predicates '[...]' are not supported (character {token.pos + 1})", self.expr)

    def steps(self, start: int, steps: list[str], *, absolute: bool) -> Expr:
        while True:
            token = self.advance()
            if token.kind in ("name", ".", ".."):
                steps.append(token.text)
            elif token.kind in ("*", "@"):
                raise _fail(
                    f"'{token.text}' in a path is not supported (character {token.pos + 1})",
                    self.expr,
                )
            else:
                raise self.unexpected(token)
            following = self.peek()
            if following.kind == "[":
                raise self.predicates(following)
            if following.kind == "::":
                raise _fail(f"axes are not supported (character {following.pos + 1})", self.expr)
            if following.kind not in ("/", "//"):
                break
            self.advance()
        last = steps[-1]
        if len(steps) == 1 and not absolute:
            if last == ".":
                return Current()
            if last == "..":
                return Parent()
            return Bare(last)
        text = self.expr[start : self.peek().pos].strip()
        if last == ".":
            return Current()
        if last == "..":
            return Parent()
        return PathRef(last, text)

    def primary(self) -> Expr:
        token = self.advance()
        kind = token.kind
        if kind == "num":
            return Literal(token.value)
        if kind == "str":
            return Literal(token.value)
        if kind == "ref":
            return Ref(token.value)
        if kind == "(":
            self.enter(token)
            node = self.binary(1)
            self.expect(")")
            self.depth -= 1
            return node
        if kind == "name":
            return self.call(token)
        raise self.unexpected(token)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _fail(
                f"nested more than {MAX_NESTING} levels deep at character {token.pos + 1}",
                self.expr,
            )

    def call(self, token: _Token) -> Expr:
        name = token.text
        self.expect("(")
        self.enter(token)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise _fail(f"unknown function '{name}' at character {token.pos + 1}", self.expr)
        args: list[Expr] = []
        if self.peek().kind != ")":
            args.append(self.binary(1))
            while self.peek().kind == ",":
                self.advance()
                args.append(self.binary(1))
        self.expect(")")
        self.depth -= 1
        low, high = spec.arity
        if len(args) < low or (high is not None and len(args) > high):
            if high is None:
                wanted = f"at least {low}"
            elif low == high:
                wanted = str(low)
            else:
                wanted = f"{low} to {high}"
            raise _fail(
                f"{name}() takes {wanted} argument{'' if wanted == '1' else 's'}, "
                f"got {len(args)} (character {token.pos + 1})",
                self.expr,
            )
        if spec.node_args:
            for arg in args[: spec.node_args]:
                if not isinstance(arg, _NODE_EXPRS):
                    raise _fail(
                        f"{name}() needs a reference to a question such as ${{name}} "
                        f"(character {token.pos + 1})",
                        self.expr,
                    )
        if name == "current":
            return Current()
        return Call(name, tuple(args))


@functools.lru_cache(maxsize=4096)
def parse(expr: str) -> Expr:
    """The AST of an expression; raises ExpressionError with a one-line message."""
    if not isinstance(expr, str):
        raise ExpressionError(f"an expression must be text, not {type(expr).__name__}")
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    return _Parser(expr).parse()


@functools.lru_cache(maxsize=4096)
def references(expr: str) -> frozenset[str]:
    """The question names an expression refers to: `${name}`s, the last step of paths,
    and the question named in `jr:choice-name(..., '${name}')`."""
    names: set[str] = set()
    for node in _walk(parse(expr)):
        if isinstance(node, Ref | PathRef):
            names.add(node.name)
        elif isinstance(node, Call) and node.name == "jr:choice-name" and len(node.args) == 2:
            target = node.args[1]
            if isinstance(target, Literal) and isinstance(target.value, str):
                question = _question_name(target.value)
                if question:
                    names.add(question)
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def bare_names(expr: str) -> frozenset[str]:
    """The bare names (choice columns in a choice_filter) an expression uses."""
    return frozenset(node.name for node in _walk(parse(expr)) if isinstance(node, Bare))


@functools.lru_cache(maxsize=4096)
def function_names(expr: str) -> frozenset[str]:
    return frozenset(node.name for node in _walk(parse(expr)) if isinstance(node, Call))


VOLATILE_FUNCTIONS = frozenset({"now", "today", "random", "uuid", "once", "pulldata"})


def is_volatile(expr: str) -> bool:
    """Whether the value depends on when or where it is evaluated (now(), random(), once()...)."""
    return not function_names(expr).isdisjoint(VOLATILE_FUNCTIONS)
