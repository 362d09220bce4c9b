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
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import functools
import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeAlias

__all__ = [
    "FUNCTIONS",
    "And",
    "Bare",
    "Call",
    "Chain",
    "Current",
    "EvalContext",
    "Expr",
    "ExpressionError",
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
    "evaluate",
    "function_names",
    "is_volatile",
    "node_string",
    "parse",
    "references",
    "to_number",
    "to_string",
    "truthy",
]


class ExpressionError(ValueError):
    """An expression that cannot be parsed (or, rarely, evaluated); the message is one line."""


class NodeSet(tuple[str, ...]):
    """The string values of the nodes a reference selects, in document order."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"NodeSet({tuple(self)!r})"


Value: TypeAlias = "str | float | bool | NodeSet"

NAN = float("nan")
_EMPTY_NODE = NodeSet(("",))
_NO_NODES = NodeSet(())
# How deep parentheses and function calls may nest; far beyond any real form,
# and low enough that parsing and evaluation stay well inside Python's stack.
MAX_NESTING = 32
MAX_LENGTH = 10_000


# --------------------------------------------------------------------------- AST


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


# --------------------------------------------------------------------- conversions


_NUMBER = re.compile(r"[ \t\r\n]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))[ \t\r\n]*")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T.+")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9](?:\.[0-9]+)?))?(.*)")
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_DATETIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_XPATH_SPACE = re.compile(r"[ \t\r\n]+")


def number_to_string(number: float) -> str:
    """XPath's string() of a number: no exponent, no trailing '.0'."""
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def _parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_datetime(text: str) -> dt.datetime | None:
    text = text.strip()
    if not _DATETIME.fullmatch(text):
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _string_to_number(text: str) -> float:
    match = _NUMBER.fullmatch(text)
    if match:
        return float(match[1])
    if len(text) >= 10 and text[4:5] == "-":
        date = _parse_date(text)
        if date is not None:
            return float((date - _EPOCH).days)
        moment = _parse_datetime(text)
        if moment is not None:
            return (moment - _EPOCH_DATETIME).total_seconds() / 86400.0
    return NAN


def to_number(value: Value) -> float:
    """XPath number(); date and date-time strings give days since 1970-01-01."""
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, NodeSet):
        return _string_to_number(value[0]) if value else NAN
    if isinstance(value, str):
        return _string_to_number(value)
    if isinstance(value, int):  # pragma: no cover - ints never reach here, but be kind
        return float(value)
    return NAN


def to_string(value: Value) -> str:
    """XPath string(): the first node of a node-set, 'true'/'false', numbers without exponent."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return number_to_string(value)
    if isinstance(value, NodeSet):
        return value[0] if value else ""
    if isinstance(value, int):  # pragma: no cover
        return str(value)
    return ""


def truthy(value: Value) -> bool:
    """XPath boolean(), except that a node-set of one empty node is false (as in JavaRosa)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or value != value)
    if isinstance(value, NodeSet):
        if len(value) == 1:
            return value[0] != ""
        return len(value) > 0
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _geo_position(position: Any) -> str:
    if not isinstance(position, list) or len(position) < 2:
        return ""
    lon, lat = position[0], position[1]
    alt = position[2] if len(position) > 2 else 0.0
    return " ".join(number_to_string(float(part)) for part in (lat, lon, alt, 0.0))


def _geo_string(value: Mapping[str, Any]) -> str:
    """A GeoJSON geometry as ODK writes it: 'lat lon alt acc' points joined by ';'."""
    kind = value.get("type")
    coordinates = value.get("coordinates")
    try:
        if kind == "Point":
            return _geo_position(coordinates)
        if kind == "LineString" and isinstance(coordinates, list):
            return ";".join(_geo_position(position) for position in coordinates)
        if kind == "Polygon" and isinstance(coordinates, list) and coordinates:
            ring = coordinates[0]
            if isinstance(ring, list):
                return ";".join(_geo_position(position) for position in ring)
    except (TypeError, ValueError):
        return ""
    return ""


def node_string(value: Any) -> str:
    """The string an answer stands for in an expression (what ODK would put in the XML).

    Integers and decimals as XPath numbers, a list of choice names space-separated
    (as ODK sends select_multiple), a GeoJSON geometry as 'lat lon alt acc;...',
    true/false as 'true'/'false', None as ''.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_to_string(value)
    if isinstance(value, list):
        return " ".join(node_string(item) for item in value if not isinstance(item, dict | list))
    if isinstance(value, dict):
        return _geo_string(value)
    return ""


def _nodes_of(value: Any) -> NodeSet:
    if isinstance(value, str):
        return NodeSet((value,))
    if isinstance(value, list) and value and isinstance(value[0], dict):
        # A repeat's instances or a map_marks answer: one node per entry (a mark's
        # node reads as its category, a repeat instance as '').
        return NodeSet(
            item["category"]
            if isinstance(item, dict) and isinstance(item.get("category"), str)
            else ""
            for item in value
        )
    return NodeSet((node_string(value),))


# ------------------------------------------------------------------------ context


_UNSET: Any = object()


class EvalContext:
    """What an expression can see: the answers, where it is evaluated, the choice it filters.

    * `answers`: the answers as `validation/` keeps them (keyed by element name,
      groups transparent, a repeat a list of objects).
    * `repeats`: for each element name, the names of the repeats that contain it,
      outermost first (names missing here are taken to be at the top level).
    * `scope`: the repeat instances the expression is evaluated in, outermost
      first, as `(repeat name, 0-based index)`.
    * `current`: the answer `.` stands for (an answer value, as in `answers`).
    * `row`: the choice being filtered (`{"name": ..., <extra columns>}`), for bare names.
    * `choice_label(value, question_name)`: the label `jr:choice-name` returns
      (by default the choice name itself).
    * `now`: the moment `now()` reports (by default the real time, UTC), and
      `today`: the date `today()` reports (by default the date of `now`).
    """

    __slots__ = (
        "_now",
        "_today",
        "answers",
        "choice_label",
        "current",
        "repeats",
        "row",
        "scope",
    )

    def __init__(
        self,
        answers: Mapping[str, Any] | None = None,
        *,
        repeats: Mapping[str, tuple[str, ...]] | None = None,
        scope: tuple[tuple[str, int], ...] = (),
        current: Any = None,
        row: Mapping[str, Any] | None = None,
        choice_label: Callable[[str, str], str] | None = None,
        now: dt.datetime | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.answers: Mapping[str, Any] = answers if answers is not None else {}
        self.repeats: Mapping[str, tuple[str, ...]] = repeats if repeats is not None else {}
        self.scope = scope
        self.current = current
        self.row = row
        self.choice_label = choice_label
        self._now = now
        self._today = today

    def derive(
        self,
        *,
        scope: tuple[tuple[str, int], ...] = _UNSET,
        current: Any = _UNSET,
        row: Mapping[str, Any] | None = _UNSET,
    ) -> EvalContext:
        """A copy evaluated elsewhere: another repeat instance, value or choice row."""
        other = EvalContext.__new__(EvalContext)
        other.answers = self.answers
        other.repeats = self.repeats
        other.scope = self.scope if scope is _UNSET else scope
        other.current = self.current if current is _UNSET else current
        other.row = self.row if row is _UNSET else row
        other.choice_label = self.choice_label
        other._now = self._now
        other._today = self._today
        return other

    # -- what the expression asks for

    def resolve(self, name: str) -> NodeSet:
        """`${name}`: this instance's value inside its repeat, every instance's from outside."""
        path = self.repeats.get(name)
        if not path:
            return _nodes_of(self.answers.get(name))
        containers: list[Mapping[str, Any]] = [self.answers]
        scope = self.scope
        matched = True
        for depth, repeat in enumerate(path):
            found: list[Mapping[str, Any]] = []
            if matched and depth < len(scope) and scope[depth][0] == repeat:
                index = scope[depth][1]
                for container in containers:
                    items = container.get(repeat)
                    if isinstance(items, list) and 0 <= index < len(items):
                        item = items[index]
                        if isinstance(item, dict):
                            found.append(item)
            else:
                matched = False
                for container in containers:
                    items = container.get(repeat)
                    if isinstance(items, list):
                        found.extend(item for item in items if isinstance(item, dict))
            containers = found
        if matched:
            return _nodes_of(containers[0].get(name)) if containers else _NO_NODES
        nodes: list[str] = []
        for container in containers:
            nodes.extend(_nodes_of(container.get(name)))
        return NodeSet(nodes)

    def is_aggregate(self, name: str) -> bool:
        """Whether `${name}` gathers several repeat instances from here (rather than one value)."""
        path = self.repeats.get(name)
        if not path:
            return False
        scope = self.scope
        return len(scope) < len(path) or any(scope[i][0] != path[i] for i in range(len(path)))

    def dot(self) -> NodeSet:
        return NodeSet((node_string(self.current),))

    def bare(self, name: str) -> NodeSet:
        if self.row is None or name not in self.row:
            return _NO_NODES
        return NodeSet((node_string(self.row[name]),))

    def position(self, repeat: str | None = None) -> float:
        for name, index in reversed(self.scope):
            if repeat is None or name == repeat:
                return float(index + 1)
        return NAN

    def label(self, value: str, question: str) -> str:
        if self.choice_label is None:
            return value
        return self.choice_label(value, question)

    def now(self) -> dt.datetime:
        return self._now if self._now is not None else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self._today if self._today is not None else self.now().date()


# ---------------------------------------------------------------------- tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num str ref name op ( ) [ ] , / // . .. @ * end
    text: str
    pos: int  # 0-based
    value: Any = None


_REF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_NAME = re.compile(r"[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?")
_NUM = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_OPERATOR_NAMES = frozenset({"and", "or", "div", "mod"})
_SYMBOLS: tuple[str, ...] = (
    "!=", "<=", ">=", "//", "::",
    "=", "<", ">", "+", "-", "*", "|", "(", ")", "[", "]", ",", "/", "@",
)  # fmt: skip
# After these a name is a name and '*' a name test; after anything else they are operators.
_OPERAND_EXPECTED = frozenset({"op", "(", "[", ",", "/", "//", "@", "::"})


def _fail(message: str, expr: str) -> ExpressionError:
    return ExpressionError(f"{message} in {_quote(expr)}")


def _quote(expr: str) -> str:
    shown = expr if len(expr) <= 200 else expr[:197] + "..."
    return "'" + shown.replace("\n", " ").replace("\r", " ") + "'"


def _tokenize(expr: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(expr)
    while i < n:
        char = expr[i]
        if char in " \t\r\n":
            i += 1
            continue
        operand_expected = not tokens or tokens[-1].kind in _OPERAND_EXPECTED
        if char == "$":
            if expr.startswith("${", i):
                end = expr.find("}", i + 2)
                if end < 0:
                    raise _fail(f"unterminated reference at character {i + 1}", expr)
                name = expr[i + 2 : end].strip()
                if not _REF_NAME.fullmatch(name):
                    raise _fail(
                        f"invalid reference '{expr[i : end + 1]}' at character {i + 1}", expr
                    )
                tokens.append(_Token("ref", expr[i : end + 1], i, name))
                i = end + 1
                continue
            raise _fail(f"unexpected '$' at character {i + 1} (write ${{name}})", expr)
        if char in "'\"":
            end = expr.find(char, i + 1)
            if end < 0:
                raise _fail(f"unterminated string starting at character {i + 1}", expr)
            tokens.append(_Token("str", expr[i : end + 1], i, expr[i + 1 : end]))
            i = end + 1
            continue
        if "0" <= char <= "9" or (char == "." and i + 1 < n and "0" <= expr[i + 1] <= "9"):
            match = _NUM.match(expr, i)
            assert match is not None
            text = match.group()
            tokens.append(_Token("num", text, i, float(text)))
            i = match.end()
            continue
        if char == ".":
            if expr.startswith("..", i):
                tokens.append(_Token("..", "..", i))
                i += 2
            else:
                tokens.append(_Token(".", ".", i))
                i += 1
            continue
        match = _NAME.match(expr, i)
        if match:
            text = match.group()
            if not operand_expected and text in _OPERATOR_NAMES:
                tokens.append(_Token("op", text, i))
            else:
                tokens.append(_Token("name", text, i))
            i = match.end()
            continue
        for symbol in _SYMBOLS:
            if expr.startswith(symbol, i):
                if symbol == "*":
                    kind = "*" if operand_expected else "op"
                elif symbol in ("(", ")", "[", "]", ",", "/", "//", "@", "::"):
                    kind = symbol
                else:
                    kind = "op"
                tokens.append(_Token(kind, symbol, i))
                i += len(symbol)
                break
        else:
            raise _fail(f"unexpected character {char!r} at character {i + 1}", expr)
    tokens.append(_Token("end", "", n))
    return tokens


# ------------------------------------------------------------------------- parser

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


def evaluate(expr: str, context: EvalContext) -> Value:
    """The value of `expr` in `context` (raises ExpressionError for unparsable expressions)."""
    return _compiled(expr)(context)


# ------------------------------------------------------------------------ compiler

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


# ----------------------------------------------------------------------- functions

Impl: TypeAlias = Callable[[EvalContext, list[Value]], Value]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    arity: tuple[int, int | None]
    impl: Impl | None  # None: compiled specially (lazy arguments)
    node_args: int = 0  # how many leading arguments must be references


def _words(value: Value) -> list[str]:
    return to_string(value).split()


def _arg_or_dot(ctx: EvalContext, args: list[Value]) -> str:
    return to_string(args[0]) if args else to_string(ctx.dot())


def _question_name(text: str) -> str:
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1].strip()
    return text.rstrip("/").rsplit("/", 1)[-1]


def _xpath_round(number: float) -> float:
    if math.isfinite(number):
        return float(math.floor(number + 0.5))
    return number


def _substring(ctx: EvalContext, args: list[Value]) -> str:
    text = to_string(args[0])
    start = _xpath_round(to_number(args[1]))
    end = math.inf if len(args) < 3 else start + _xpath_round(to_number(args[2]))
    if start != start or end != end:
        return ""
    low = max(start, 1.0)
    high = min(end, float(len(text) + 1))
    if high <= low:
        return ""
    return text[int(low) - 1 : int(high) - 1]


def _substr(ctx: EvalContext, args: list[Value]) -> str:
    text = to_string(args[0])

    def index(value: Value, default: int) -> int:
        number = to_number(value)
        if number != number:
            return 0
        if math.isinf(number):
            return len(text) if number > 0 else 0
        return max(0, min(len(text), int(number)))

    start = index(args[1], 0)
    end = index(args[2], len(text)) if len(args) > 2 else len(text)
    return text[start:end] if end > start else ""


def _substring_before(ctx: EvalContext, args: list[Value]) -> str:
    text, target = to_string(args[0]), to_string(args[1])
    found = text.find(target)
    return text[:found] if found >= 0 else ""


def _substring_after(ctx: EvalContext, args: list[Value]) -> str:
    text, target = to_string(args[0]), to_string(args[1])
    found = text.find(target)
    return text[found + len(target) :] if found >= 0 else ""


def _translate(ctx: EvalContext, args: list[Value]) -> str:
    text, source, target = (to_string(arg) for arg in args)
    mapping: dict[int, int | None] = {}
    for position, char in enumerate(source):
        if ord(char) not in mapping:
            mapping[ord(char)] = ord(target[position]) if position < len(target) else None
    return text.translate(mapping)


def _concat(ctx: EvalContext, args: list[Value]) -> str:
    parts: list[str] = []
    for arg in args:
        if isinstance(arg, NodeSet):
            parts.extend(arg)
        else:
            parts.append(to_string(arg))
    return "".join(parts)


def _join(ctx: EvalContext, args: list[Value]) -> str:
    separator = to_string(args[0])
    parts: list[str] = []
    for arg in args[1:]:
        if isinstance(arg, NodeSet):
            parts.extend(arg)
        else:
            parts.append(to_string(arg))
    return separator.join(parts)


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as error:
        raise ExpressionError(f"invalid regular expression {pattern!r}: {error}") from None


def _regex_fn(ctx: EvalContext, args: list[Value]) -> bool:
    return _regex(to_string(args[1])).search(to_string(args[0])) is not None


def check_regex(pattern: str) -> str | None:
    """Why `pattern` is not a valid regular expression, or None."""
    try:
        _regex(pattern)
    except ExpressionError as error:
        return str(error)
    return None


def _numbers_of(args: list[Value]) -> list[float]:
    numbers: list[float] = []
    for arg in args:
        if isinstance(arg, NodeSet):
            numbers.extend(_string_to_number(node) for node in arg)
        else:
            numbers.append(to_number(arg))
    return numbers


def _min(ctx: EvalContext, args: list[Value]) -> float:
    numbers = _numbers_of(args)
    if not numbers or any(number != number for number in numbers):
        return NAN
    return min(numbers)


def _max(ctx: EvalContext, args: list[Value]) -> float:
    numbers = _numbers_of(args)
    if not numbers or any(number != number for number in numbers):
        return NAN
    return max(numbers)


def _sum(ctx: EvalContext, args: list[Value]) -> float:
    numbers = _numbers_of(args)
    if any(number != number for number in numbers):
        return NAN
    try:
        return math.fsum(numbers)
    except (OverflowError, ValueError):
        return sum(numbers)


def _count(ctx: EvalContext, args: list[Value]) -> float:
    value = args[0]
    return float(len(value)) if isinstance(value, NodeSet) else 1.0


def _count_non_empty(ctx: EvalContext, args: list[Value]) -> float:
    value = args[0]
    if isinstance(value, NodeSet):
        return float(sum(1 for node in value if node != ""))
    return 1.0 if to_string(value) else 0.0


def _int(ctx: EvalContext, args: list[Value]) -> float:
    number = to_number(args[0])
    return float(math.trunc(number)) if math.isfinite(number) else number


def _round(ctx: EvalContext, args: list[Value]) -> float:
    number = to_number(args[0])
    if not math.isfinite(number):
        return number
    if len(args) < 2:
        return _xpath_round(number)
    places = to_number(args[1])
    if not math.isfinite(places):
        return NAN
    digits = int(places)
    if abs(digits) > 300:
        return number if digits > 0 else 0.0
    try:
        quantum = Decimal(1).scaleb(-digits)
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return number
    return float(rounded)


def _math(function: Callable[..., float]) -> Impl:
    def impl(ctx: EvalContext, args: list[Value]) -> float:
        try:
            return float(function(*(to_number(arg) for arg in args)))
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            return NAN

    return impl


def _pow(x: float, y: float) -> float:
    if x == 0 and y < 0:
        return math.inf
    return math.pow(x, y)


def _log(x: float) -> float:
    return math.log(x) if x > 0 else (-math.inf if x == 0 else NAN)


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else NAN)


def _date_of(value: Value) -> dt.date | None:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        try:
            return _EPOCH + dt.timedelta(days=math.floor(value))
        except OverflowError:  # before year 1 or after 9999
            return None
    text = to_string(value)
    date = _parse_date(text)
    if date is not None:
        return date
    moment = _parse_datetime(text)
    if moment is not None:
        return moment.date()
    number = _string_to_number(text)
    return _date_of(number) if number == number else None


def _datetime_of(value: Value) -> dt.datetime | None:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        try:
            return _EPOCH_DATETIME + dt.timedelta(days=value)
        except OverflowError:
            return None
    text = to_string(value)
    moment = _parse_datetime(text)
    if moment is not None:
        return moment
    date = _parse_date(text)
    if date is not None:
        return dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
    number = _string_to_number(text)
    return _datetime_of(number) if number == number else None


def _date_fn(ctx: EvalContext, args: list[Value]) -> str:
    date = _date_of(args[0])
    return date.isoformat() if date else ""


def _date_time_fn(ctx: EvalContext, args: list[Value]) -> str:
    moment = _datetime_of(args[0])
    return moment.isoformat(timespec="milliseconds") if moment else ""


def _decimal_date_time(ctx: EvalContext, args: list[Value]) -> float:
    moment = _datetime_of(args[0])
    if moment is None:
        return NAN
    return (moment - _EPOCH_DATETIME).total_seconds() / 86400.0


def _decimal_time(ctx: EvalContext, args: list[Value]) -> float:
    match = _TIME.fullmatch(to_string(args[0]).strip())
    if not match:
        return NAN
    seconds = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3] or 0)
    return seconds / 86400.0


_MONTHS = tuple(calendar.month_abbr)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _format(moment: dt.datetime | None, pattern: str) -> str:
    if moment is None:
        return ""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%" or i + 1 == len(pattern):
            out.append(char)
            i += 1
            continue
        code = pattern[i + 1]
        i += 2
        replacements = {
            "Y": f"{moment.year:04d}",
            "y": f"{moment.year % 100:02d}",
            "m": f"{moment.month:02d}",
            "n": str(moment.month),
            "b": _MONTHS[moment.month],
            "d": f"{moment.day:02d}",
            "e": str(moment.day),
            "a": _DAYS[moment.weekday()],
            "H": f"{moment.hour:02d}",
            "h": str(moment.hour),
            "M": f"{moment.minute:02d}",
            "S": f"{moment.second:02d}",
            "3": f"{moment.microsecond // 1000:03d}",
            "%": "%",
        }
        out.append(replacements.get(code, "%" + code))
    return "".join(out)


def _format_date(ctx: EvalContext, args: list[Value]) -> str:
    date = _date_of(args[0])
    moment = dt.datetime(date.year, date.month, date.day) if date else None
    return _format(moment, to_string(args[1]))


def _format_date_time(ctx: EvalContext, args: list[Value]) -> str:
    return _format(_datetime_of(args[0]), to_string(args[1]))


def _selected_at(ctx: EvalContext, args: list[Value]) -> str:
    words = _words(args[0])
    index = to_number(args[1])
    if not math.isfinite(index):
        return ""
    position = math.floor(index)
    return words[position] if 0 <= position < len(words) else ""


def _checklist(ctx: EvalContext, args: list[Value]) -> bool:
    low, high = to_number(args[0]), to_number(args[1])
    answers: list[str] = []
    for arg in args[2:]:
        answers.extend(arg if isinstance(arg, NodeSet) else (to_string(arg),))
    yes = sum(1 for answer in answers if answer == "yes")
    return (low < 0 or yes >= low) and (high < 0 or yes <= high)


def _weighted_checklist(ctx: EvalContext, args: list[Value]) -> bool:
    low, high = to_number(args[0]), to_number(args[1])
    total = 0.0
    for position in range(2, len(args) - 1, 2):
        if to_string(args[position]) == "yes":
            total += to_number(args[position + 1])
    return (low < 0 or total >= low) and (high < 0 or total <= high)


def _digest(ctx: EvalContext, args: list[Value]) -> str:
    algorithms = {
        "MD5": "md5",
        "SHA-1": "sha1",
        "SHA-256": "sha256",
        "SHA-384": "sha384",
        "SHA-512": "sha512",
    }
    algorithm = algorithms.get(to_string(args[1]).upper())
    if algorithm is None:
        raise ExpressionError(f"digest(): unknown algorithm {to_string(args[1])!r}")
    digest = hashlib.new(algorithm, to_string(args[0]).encode(), usedforsecurity=False).digest()
    encoding = to_string(args[2]).lower() if len(args) > 2 else "base64"
    if encoding == "hex":
        return digest.hex()
    return base64.b64encode(digest).decode()


def _uuid(ctx: EvalContext, args: list[Value]) -> str:
    if not args:
        return str(uuid.uuid4())
    length = to_number(args[0])
    if not math.isfinite(length) or length < 1:
        return ""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(min(int(length), 1000)))


def _position(ctx: EvalContext, args: list[Value]) -> float:
    return ctx.position()


def _choice_name(ctx: EvalContext, args: list[Value]) -> str:
    return ctx.label(to_string(args[0]), _question_name(to_string(args[1])))


def _fn(function: Callable[..., Value]) -> Impl:
    """An implementation from a plain function of converted arguments."""
    return lambda ctx, args: function(*args)


FUNCTIONS: dict[str, FunctionSpec] = {
    # control flow and logic (if, coalesce, position, indexed-repeat compiled specially)
    "if": FunctionSpec((3, 3), None),
    "coalesce": FunctionSpec((1, None), None),
    "position": FunctionSpec((0, 1), None),
    "indexed-repeat": FunctionSpec((3, None), None, node_args=2),
    "once": FunctionSpec((1, 1), lambda ctx, args: args[0]),
    "current": FunctionSpec((0, 0), lambda ctx, args: ctx.dot()),
    "true": FunctionSpec((0, 0), lambda ctx, args: True),
    "false": FunctionSpec((0, 0), lambda ctx, args: False),
    "boolean": FunctionSpec((1, 1), lambda ctx, args: truthy(args[0])),
    "not": FunctionSpec((1, 1), lambda ctx, args: not truthy(args[0])),
    "boolean-from-string": FunctionSpec(
        (1, 1), lambda ctx, args: to_string(args[0]).strip() in ("true", "1")
    ),
    "checklist": FunctionSpec((2, None), _checklist),
    "weighted-checklist": FunctionSpec((2, None), _weighted_checklist),
    # selects
    "selected": FunctionSpec(
        (2, 2), lambda ctx, args: to_string(args[1]).strip() in _words(args[0])
    ),
    "count-selected": FunctionSpec((1, 1), lambda ctx, args: float(len(_words(args[0])))),
    "selected-at": FunctionSpec((2, 2), _selected_at),
    "jr:choice-name": FunctionSpec((2, 2), _choice_name),
    # node-sets (repeats)
    "count": FunctionSpec((1, 1), _count, node_args=1),
    "count-non-empty": FunctionSpec((1, 1), _count_non_empty, node_args=1),
    "sum": FunctionSpec((1, 1), _sum, node_args=1),
    "min": FunctionSpec((1, None), _min),
    "max": FunctionSpec((1, None), _max),
    "join": FunctionSpec((1, None), _join),
    # strings
    "string": FunctionSpec((0, 1), lambda ctx, args: _arg_or_dot(ctx, args)),
    "string-length": FunctionSpec((0, 1), lambda ctx, args: float(len(_arg_or_dot(ctx, args)))),
    "normalize-space": FunctionSpec(
        (0, 1), lambda ctx, args: _XPATH_SPACE.sub(" ", _arg_or_dot(ctx, args)).strip(" \t\r\n")
    ),
    "concat": FunctionSpec((0, None), _concat),
    "contains": FunctionSpec((2, 2), lambda ctx, args: to_string(args[1]) in to_string(args[0])),
    "starts-with": FunctionSpec(
        (2, 2), lambda ctx, args: to_string(args[0]).startswith(to_string(args[1]))
    ),
    "ends-with": FunctionSpec(
        (2, 2), lambda ctx, args: to_string(args[0]).endswith(to_string(args[1]))
    ),
    "substring": FunctionSpec((2, 3), _substring),
    "substr": FunctionSpec((2, 3), _substr),
    "substring-before": FunctionSpec((2, 2), _substring_before),
    "substring-after": FunctionSpec((2, 2), _substring_after),
    "translate": FunctionSpec((3, 3), _translate),
    "regex": FunctionSpec((2, 2), _regex_fn),
    "digest": FunctionSpec((2, 3), _digest),
    "uuid": FunctionSpec((0, 1), _uuid),
    # pulldata() looks a value up in a CSV file the form carries for the device. The
    # server does not evaluate it: it is volatile, so the device's computed value is kept.
    "pulldata": FunctionSpec((4, 4), lambda ctx, args: ""),
    # numbers
    "number": FunctionSpec(
        (0, 1), lambda ctx, args: to_number(args[0]) if args else to_number(ctx.dot())
    ),
    "int": FunctionSpec((1, 1), _int),
    "round": FunctionSpec((1, 2), _round),
    "floor": FunctionSpec((1, 1), _math(lambda x: math.floor(x) if math.isfinite(x) else x)),
    "ceiling": FunctionSpec((1, 1), _math(lambda x: math.ceil(x) if math.isfinite(x) else x)),
    "abs": FunctionSpec((1, 1), _math(abs)),
    "pow": FunctionSpec((2, 2), _math(_pow)),
    "sqrt": FunctionSpec((1, 1), _math(math.sqrt)),
    "exp": FunctionSpec((1, 1), _math(math.exp)),
    "exp10": FunctionSpec((1, 1), _math(lambda x: math.pow(10.0, x))),
    "log": FunctionSpec((1, 1), _math(_log)),
    "log10": FunctionSpec((1, 1), _math(_log10)),
    "sin": FunctionSpec((1, 1), _math(math.sin)),
    "cos": FunctionSpec((1, 1), _math(math.cos)),
    "tan": FunctionSpec((1, 1), _math(math.tan)),
    "asin": FunctionSpec((1, 1), _math(math.asin)),
    "acos": FunctionSpec((1, 1), _math(math.acos)),
    "atan": FunctionSpec((1, 1), _math(math.atan)),
    "atan2": FunctionSpec((2, 2), _math(math.atan2)),
    "pi": FunctionSpec((0, 0), lambda ctx, args: math.pi),
    "random": FunctionSpec((0, 0), lambda ctx, args: secrets.randbelow(2**53) / 2**53),
    # dates and times
    "today": FunctionSpec((0, 0), lambda ctx, args: ctx.today().isoformat()),
    "now": FunctionSpec((0, 0), lambda ctx, args: ctx.now().isoformat(timespec="milliseconds")),
    "date": FunctionSpec((1, 1), _date_fn),
    "date-time": FunctionSpec((1, 1), _date_time_fn),
    "decimal-date-time": FunctionSpec((1, 1), _decimal_date_time),
    "decimal-time": FunctionSpec((1, 1), _decimal_time),
    "format-date": FunctionSpec((2, 2), _format_date),
    "format-date-time": FunctionSpec((2, 2), _format_date_time),
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
