"""A sensitive choice question as a grouping for aggregate outputs (maps, cross-tables).

Sensitive answers are stored encrypted (`Submission.sensitive`) and never reach the
typed answers or the analysis snapshot. Aggregate outputs that pass the disclosure
gate may still filter or group by a sensitive *select_one* question, because only
counts of at least the threshold leave: `levels_by_submission` decrypts that one
question's answers for the form, writes one audit row per call, and keeps the result
in this process's memory only (never on disk: encryption at rest), keyed by the form's
data counter so that a new, edited, reviewed or withdrawn submission makes it stale.
The levels must never be returned per point or per submission outside the raw tier.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Lock

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from incity.accounts import access
from incity.accounts.audit import Origin, record
from incity.accounts.models import AuditKind, User
from incity.accounts.permissions import ProjectAction
from incity.errors import InvalidInput
from incity.surveys.crypto import decrypt_json
from incity.surveys.definition import Element, walk
from incity.surveys.models import Form, Submission, SubmissionStatus
from incity.surveys.queries import data_version, project_sensitive_names

CHUNK = 2000
# Forms x questions kept decrypted in memory; each entry is two arrays per submission.
_KEPT = 8
AUDIT_ACTION = "analysis.sensitive_read"


@dataclass(frozen=True)
class SensitiveQuestion:
    """A sensitive select_one question of a form, outside repeats, with its choices."""

    name: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class SensitiveLevels:
    """Each answering submission's level, as sorted columns (submission ids ascending).

    `code[i]` indexes `levels` for submission `submission[i]`; submissions that did
    not answer (or answered a value no longer in the list) are left out.
    """

    question: SensitiveQuestion
    version: int
    submission: NDArray[np.int64]
    code: NDArray[np.int16]

    def members(self, level: str) -> NDArray[np.int64]:
        """The ids of the submissions that answered `level` (sorted)."""
        if level not in self.question.levels:
            raise InvalidInput(
                "group",
                f"'{level}' is not a choice of '{self.question.name}'; choices: "
                f"{', '.join(self.question.levels)}.",
            )
        return self.submission[self.code == self.question.levels.index(level)]

    def as_arrow(self) -> pa.Table:
        """(submission_id, QUESTION) with the level dictionary-encoded, for DuckDB to join
        in memory (`connection.register`): never written to a file."""
        levels = pa.DictionaryArray.from_arrays(
            pa.array(self.code, type=pa.int16()), pa.array(self.question.levels, pa.string())
        )
        return pa.table({"submission_id": pa.array(self.submission), self.question.name: levels})

    def as_dict(self) -> dict[int, str]:
        levels = self.question.levels
        return {
            int(pk): levels[code]
            for pk, code in zip(self.submission.tolist(), self.code.tolist(), strict=True)
        }


def may_read_sensitive(user: User | None, form: Form) -> bool:
    """Whether `user` may see sensitive answers per submission (the raw tier).

    The exports' rule (`exports.services.may_see_sensitive`): a role that may read raw
    data, and the machine operator (None) always. Aggregates that pass the gate need
    only view_published.
    """
    return user is None or access.can_project(user, ProjectAction.VIEW_RAW_DATA, form.project)


_kept: OrderedDict[tuple[int, str, str, int, tuple[str, ...]], SensitiveLevels] = OrderedDict()
_lock = Lock()


def sensitive_names(form: Form) -> frozenset[str]:
    """Names the project marks sensitive, names tagged so in any version of the form, and
    the questions inside a group or repeat that is either."""
    extra = project_sensitive_names(form.project)
    names = set(extra)
    for definition in form.versions.values_list("definition", flat=True):
        for element, parents in walk(definition["children"]):
            if _tagged(element) or any(_tagged(p) or p.get("name") in extra for p in parents):
                names.add(element.get("name", ""))
    return frozenset(names)


def _tagged(element: Element) -> bool:
    return bool((element.get("tags") or {}).get("sensitive"))


def sensitive_question(form: Form, name: str, *, field: str = "group") -> SensitiveQuestion:
    """The question, if it may group aggregates; InvalidInput(field) naming why not."""
    found: Element | None = None
    choices: list[str] = []
    in_repeat = False
    for definition in form.versions.order_by("number").values_list("definition", flat=True):
        lists = definition.get("choices", {})
        for element, parents in walk(definition["children"]):
            if element.get("name") != name:
                continue
            found, in_repeat = element, any(p["type"] == "repeat" for p in parents)
            for choice in lists.get(element.get("list_name", ""), []):
                if choice["name"] not in choices:
                    choices.append(choice["name"])
    if found is None:
        raise InvalidInput(field, f"'{name}' is not a question of the form '{form.form_id}'.")
    if name not in sensitive_names(form):
        raise InvalidInput(field, f"'{name}' is not a sensitive question of the form.")
    if found["type"] != "select_one" or in_repeat or not choices:
        where = " inside a repeat" if in_repeat else ""
        raise InvalidInput(
            field,
            f"'{name}' is a sensitive {found['type']} question{where}; only a sensitive "
            "select_one question outside repeats can group published figures.",
        )
    return SensitiveQuestion(name, tuple(choices))


def levels_by_submission(
    form: Form,
    name: str,
    *,
    reason: str,
    actor: User | None,
    origin: Origin,
    question: SensitiveQuestion | None = None,
) -> SensitiveLevels:
    """Every kept submission's level of the sensitive select_one `name` (audited).

    One audit row per call, whether the levels were decrypted now or kept from an
    earlier call: each call is a read of sensitive answers for `reason`.
    """
    question = question or sensitive_question(form, name)
    version = data_version(form)
    # The choices are part of the key (a new form version may add one); the creation time
    # tells a form from one that got the same id after a rolled-back transaction.
    key = (form.pk, form.created_at.isoformat(), name, version, question.levels)
    with _lock:
        found = _kept.get(key)
        if found is not None:
            _kept.move_to_end(key)
    if found is None:
        found = _decrypt(form, question, version)
        with _lock:
            _kept[key] = found
            while len(_kept) > _KEPT:
                _kept.popitem(last=False)
    record(
        actor=actor,
        origin=origin,
        kind=AuditKind.RAW_READ,
        action=AUDIT_ACTION,
        project=form.project,
        target=form,
        detail={
            "form": form.pk,
            "question": name,
            "purpose": "aggregate",
            "reason": reason,
            "count": int(found.submission.size),
        },
    )
    return found


def forget(form_ids: set[int] | None = None) -> None:
    """Drop kept levels (of `form_ids`, or all): a purger for `surveys.derived`."""
    with _lock:
        for key in [k for k in _kept if form_ids is None or k[0] in form_ids]:
            del _kept[key]


def _decrypt(form: Form, question: SensitiveQuestion, version: int) -> SensitiveLevels:
    index = {level: code for code, level in enumerate(question.levels)}
    ids: list[int] = []
    codes: list[int] = []
    for pk, token in _encrypted(form):
        value = decrypt_json(token).get(question.name)
        code = index.get(value) if isinstance(value, str) else None
        if code is not None:
            ids.append(pk)
            codes.append(code)
    return SensitiveLevels(
        question,
        version,
        np.array(ids, dtype=np.int64),
        np.array(codes, dtype=np.int16),
    )


def _encrypted(form: Form) -> Iterator[tuple[int, bytes]]:
    """(id, token) of the form's kept submissions with sensitive answers, in id order,
    CHUNK rows per query so that memory stays flat however many there are."""
    rows = (
        Submission.objects.filter(form=form, sensitive__isnull=False)
        .exclude(status=SubmissionStatus.REJECTED)
        .order_by("pk")
        .values_list("pk", "sensitive")
    )
    last = 0
    while True:
        page = list(rows.filter(pk__gt=last)[:CHUNK])
        for pk, token in page:
            if token is not None:  # the query leaves None out; this tells mypy
                yield pk, bytes(token)
        if len(page) < CHUNK:
            return
        last = page[-1][0]
