"""Visible projects: one SQL query built from the permission matrix, beside the obvious
baseline of loading every project of the user's organisations and checking each in Python."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from incity.accounts import access
from incity.accounts.models import Membership, Organisation, Project, User
from incity.accounts.permissions import ProjectAction
from incity.accounts.roles import ProjectState, Role

ORGANISATIONS = 200
PROJECTS_PER_ORGANISATION = 50
MEMBERSHIPS = 25
REPEATS = 20


@dataclass(frozen=True)
class Row:
    name: str
    incity_ms: float
    baseline_ms: float

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.incity_ms


def _build(seed: int = 7) -> User:
    generator = random.Random(seed)
    organisations = Organisation.objects.bulk_create(
        Organisation(
            slug=f"bench-{i}", name=f"Bench city {i} (synthetic)", kind="city", is_synthetic=True
        )
        for i in range(ORGANISATIONS)
    )
    states = list(ProjectState)
    Project.objects.bulk_create(
        Project(
            slug=f"bench-{o.pk}-{j}",
            name=f"Project {j}",
            organisation=o,
            state=generator.choice(states),
            is_synthetic=True,
        )
        for o in organisations
        for j in range(PROJECTS_PER_ORGANISATION)
    )
    user = User.objects.create(username="bench-user")
    roles = list(Role)
    Membership.objects.bulk_create(
        Membership(user=user, organisation=o, role=generator.choice(roles))
        for o in generator.sample(organisations, MEMBERSHIPS)
    )
    return user


def _time(function: object) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = function()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
        assert result is not None
    return best * 1000


def run() -> list[Row]:
    user = _build()
    action = ProjectAction.VIEW_RAW_DATA

    def incity() -> list[int]:
        fresh = User.objects.get(pk=user.pk)
        return sorted(access.visible_projects(fresh, action).values_list("pk", flat=True))

    def baseline() -> list[int]:
        fresh = User.objects.get(pk=user.pk)
        organisation_ids = Membership.objects.filter(user=fresh).values_list(
            "organisation_id", flat=True
        )
        projects = Project.objects.filter(organisation_id__in=list(organisation_ids))
        return sorted(p.pk for p in projects if access.can_project(fresh, action, p))

    assert incity() == baseline(), "the two ways disagree"
    return [
        Row(
            f"projects with raw-data access ({MEMBERSHIPS} memberships, "
            f"{ORGANISATIONS * PROJECTS_PER_ORGANISATION} projects)",
            _time(incity),
            _time(baseline),
        )
    ]
