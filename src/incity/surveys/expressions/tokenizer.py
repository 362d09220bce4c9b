"""Turning an expression's text into tokens, and the one-line error messages.

Separate from the parser because XPath tokenizing depends on the previous
token (`div`, `*`), which is easier to follow on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incity.surveys.expressions.values import ExpressionError


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
