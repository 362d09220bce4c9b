"""The function table `FUNCTIONS` (arity, which arguments must be references,
implementation) and the implementations of the ordinary functions.

Separate from the compiler because the parser needs the table too (to check
names and argument counts) and must not depend on the compiler.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypeAlias

from incity.surveys.expressions.context import EvalContext
from incity.surveys.expressions.dates import (
    _date_fn,
    _date_time_fn,
    _decimal_date_time,
    _decimal_time,
    _format_date,
    _format_date_time,
)
from incity.surveys.expressions.values import (
    _XPATH_SPACE,
    NAN,
    ExpressionError,
    NodeSet,
    Value,
    _string_to_number,
    to_number,
    to_string,
    truthy,
)

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
