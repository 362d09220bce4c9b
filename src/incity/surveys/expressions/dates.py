"""Date and time functions (`date()`, `decimal-date-time()`, `format-date()`...).

Split from `functions` only to keep files short; the table there names them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

from incity.surveys.expressions.context import EvalContext
from incity.surveys.expressions.values import (
    _EPOCH,
    _EPOCH_DATETIME,
    _TIME,
    NAN,
    Value,
    _parse_date,
    _parse_datetime,
    _string_to_number,
    to_string,
)


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
