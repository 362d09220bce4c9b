"""`EvalContext`: what an expression can see while it is evaluated.

Separate from the compiler because callers build contexts (validation, the
demo) without caring how expressions are compiled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from incity.surveys.expressions.values import _NO_NODES, NAN, NodeSet, _nodes_of, node_string

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
