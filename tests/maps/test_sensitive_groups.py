"""Map layers grouped by migration background, a sensitive question stored encrypted.

Published layers may filter by it (only counts that pass the gate leave, and a filtered
layer cannot be subtracted from the unfiltered one to give a small count); raw layers
only for a role that may read sensitive answers; every read of the answers is audited.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import h3
import pytest
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incity.accounts.models import AuditEvent, AuditKind, User
from incity.analysis import sensitive_groups
from incity.analysis.sensitive_groups import AUDIT_ACTION, levels_by_submission
from incity.errors import InvalidInput
from incity.maps.layers.build import _protected_units, _unmerged
from incity.maps.layers.gate import LayerGate
from incity.maps.layers.hexagons import (
    CellCounts,
    merge_small,
    protect_units,
    published_features,
)
from incity.surveys import derived
from incity.surveys.crypto import decrypt_json
from incity.surveys.models import Answer, Form, Submission
from incity.surveys.services import forms as form_services
from incity.surveys.services.sensitivity import set_sensitive_questions
from tests.maps.fixtures import mark
from tests.personas import SYSTEM, Cast, bearer, signed_in
from tests.places.geo import riverton_areas
from tests.surveys.forms import CONSENT_SHEET, EN, household_definition, stored

# Level names found nowhere else, so that a stray copy of an answer would be found.
HERE = "born_in_country_zq"
ABROAD = "born_abroad_zq"
A = (-1.9000, 52.4800)  # Riverton North
B = (-1.9100, 52.4900)  # Riverton North
C = (-1.8950, 52.4600)  # Riverton South
# Marks per spot: (born abroad, born here). In B the filtered count (11) passes the
# threshold but the unfiltered one (15) would give away the 4 others: hidden.
PLAN = {A: (14, 12), B: (11, 4), C: (3, 20)}
RESOLUTION = 9

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_levels_kept() -> None:
    sensitive_groups.forget()


def migration_form(cast: Cast) -> Form:
    definition = household_definition(form_id="migration")
    definition["choices"]["yes_no"] = [
        {"name": HERE, "label": {EN: "Born in this country"}},
        {"name": ABROAD, "label": {EN: "Born in another country"}},
    ]
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=definition,
        consent_required=True,
        consent_sheet=CONSENT_SHEET,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


@pytest.fixture
def form(cast: Cast) -> Form:
    riverton_areas(cast)
    found = migration_form(cast)
    plan = [
        (spot, level)
        for spot, (abroad, here) in PLAN.items()
        for level, n in ((ABROAD, abroad), (HERE, here))
        for _ in range(n)
    ]
    random.Random(6).shuffle(plan)
    for spot, level in plan:
        stored(found, cast.fieldworker, born_here=level, places=[mark(*spot, "unsafe")])
    return found


def _get(user: User, form: Form, path: str) -> Any:
    return Client().get(f"/api/v1/forms/{form.pk}/layers/{path}", headers=bearer(user))


def _sensitive_reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AUDIT_ACTION).order_by("pk"))


def _finest_parent(lon: float, lat: float) -> str:
    # A mark counts in the parent of its resolution-10 cell, as the H3 hierarchy has it.
    return str(h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 10), RESOLUTION))


def _decrypted_counts(form: Form, level: str | None) -> Counter[str]:
    """Marks per cell of the submissions answering `level` (all when None), from the
    stored submissions themselves: the sensitive part decrypted here, not by the app."""
    counts: Counter[str] = Counter()
    for submission in Submission.objects.filter(form=form):
        secret = decrypt_json(submission.sensitive) if submission.sensitive else {}
        if level is not None and secret.get("born_here") != level:
            continue
        for place in submission.answers.get("places", []):
            if "geometry" in place:
                lon, lat = place["geometry"]["coordinates"]
                counts[_finest_parent(lon, lat)] += 1
    return counts


def _after_gate(form: Form, level: str, threshold: int) -> dict[str, int]:
    """What may be published: counts of at least the threshold whose difference from the
    unfiltered count is not a small count (every mark here is 'unsafe')."""
    group, everyone = _decrypted_counts(form, level), _decrypted_counts(form, None)
    return {
        cell: n
        for cell, n in group.items()
        if n >= threshold and not 0 < everyone[cell] - n < threshold
    }


def _totals(body: dict[str, Any]) -> dict[str, int]:
    return {feature["id"]: feature["properties"]["total"] for feature in body["features"]}


# --- published layers ------------------------------------------------------------------


@pytest.mark.parametrize("level", [ABROAD, HERE])
def test_a_published_layer_by_migration_background_equals_the_decrypted_count(
    cast: Cast, form: Form, level: str
) -> None:
    response = _get(cast.viewer, form, f"hexagons?resolution=9&group=born_here={level}")
    assert response.status_code == 200, response.content
    body = response.json()
    expected = _after_gate(form, level, form.project.disclosure_threshold)
    assert expected  # the plan leaves one cell for each level
    assert _totals(body) == expected
    assert body["layer"]["group"] == [f"born_here={level}"]
    assert "filtered" in body["disclosure"]["note"]


def test_the_filtered_layer_cannot_be_subtracted_from_the_unfiltered_one(
    cast: Cast, form: Form
) -> None:
    everyone = _totals(_get(cast.viewer, form, "hexagons?resolution=9").json())
    abroad = _totals(
        _get(cast.viewer, form, f"hexagons?resolution=9&group=born_here={ABROAD}").json()
    )
    cell_b = _finest_parent(*B)
    assert everyone[cell_b] == 15  # shown unfiltered ...
    assert cell_b not in abroad  # ... so 11 of them may not be shown: 4 would follow
    for cell, n in abroad.items():
        assert not 0 < everyone[cell] - n < form.project.disclosure_threshold


def test_areas_and_hotspots_can_be_grouped_by_a_sensitive_question(cast: Cast, form: Form) -> None:
    response = _get(cast.viewer, form, f"areas?group=born_here={ABROAD}")
    assert response.status_code == 200, response.content
    by_area = {f["properties"]["area"]: f["properties"] for f in response.json()["features"]}
    abroad_north = PLAN[A][0] + PLAN[B][0]
    assert by_area["Riverton North"]["total"] == abroad_north  # 25 of 41: 16 others
    assert by_area["Riverton South"]["total"] is None  # 3 marks
    here = _get(cast.viewer, form, f"areas?group=born_here={HERE}").json()
    south = {f["properties"]["area"]: f["properties"] for f in here["features"]}
    assert south["Riverton South"]["total"] is None  # 20 of 23 would give away 3
    assert _get(cast.viewer, form, f"hotspots?group=born_here={ABROAD}").status_code == 200


def test_each_build_writes_one_audit_row_without_the_answers(cast: Cast, form: Form) -> None:
    assert _get(cast.viewer, form, f"hexagons?group=born_here={ABROAD}").status_code == 200
    reads = _sensitive_reads()
    assert len(reads) == 1
    read = reads[0]
    assert read.kind == AuditKind.RAW_READ
    assert read.actor == cast.viewer
    assert read.channel == "api"
    assert read.detail == {
        "form": form.pk,
        "question": "born_here",
        "purpose": "aggregate",
        "reason": "maps.hexagons",
        "count": sum(abroad + here for abroad, here in PLAN.values()),
    }
    # The same layer again comes from the layer cache: no answer is read, no new row.
    assert _get(cast.viewer, form, f"hexagons?group=born_here={ABROAD}").status_code == 200
    assert len(_sensitive_reads()) == 1


def test_an_embed_grouped_by_migration_background_is_audited_without_a_person(
    cast: Cast, form: Form
) -> None:
    created = Client().post(
        f"/api/v1/forms/{form.pk}/embeds",
        data={"kind": "hexagons", "resolution": 9, "group": [f"born_here={ABROAD}"]},
        content_type="application/json",
        headers=bearer(cast.lead),
    )
    assert created.status_code == 201, created.content
    page = Client().get(f"/maps/embed/{created.json()['token']}/")
    assert page.status_code == 200
    assert HERE not in page.content.decode()
    reads = _sensitive_reads()
    assert [(read.actor, read.channel) for read in reads] == [(None, "embed")]


def test_the_map_page_can_be_grouped_by_migration_background(cast: Cast, form: Form) -> None:
    page = signed_in(cast.viewer).get(f"/maps/forms/{form.pk}/?group=born_here={ABROAD}")
    assert page.status_code == 200, page.content[:500]
    assert [(read.actor, read.channel) for read in _sensitive_reads()] == [(cast.viewer, "web")]


# --- the raw tier ----------------------------------------------------------------------


def test_raw_scope_is_refused_to_a_role_without_sensitive_access(cast: Cast, form: Form) -> None:
    for user in (cast.viewer, cast.partner):
        response = _get(user, form, f"points?scope=raw&group=born_here={ABROAD}")
        assert response.status_code == 403
    assert _sensitive_reads() == []


def test_raw_scope_with_a_sensitive_group_follows_the_sensitive_rule(
    cast: Cast, form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A role that may read raw data but, under a stricter rule, not sensitive answers.
    monkeypatch.setattr("incity.maps.queries.may_read_sensitive", lambda user, form: False)
    response = _get(cast.researcher, form, f"points?scope=raw&group=born_here={ABROAD}")
    assert response.status_code == 403
    assert "born_here" in response.json()["message"]
    assert not AuditEvent.objects.filter(action="maps.raw_read").exists()
    # The same role without the sensitive group still gets its raw layer.
    assert _get(cast.researcher, form, "points?scope=raw").status_code == 200


def test_raw_points_by_migration_background_for_a_role_that_may_see_them(
    cast: Cast, form: Form
) -> None:
    response = _get(cast.researcher, form, f"points?scope=raw&group=born_here={ABROAD}")
    assert response.status_code == 200, response.content
    features = response.json()["features"]
    assert len(features) == sum(abroad for abroad, _ in PLAN.values())
    assert all(set(f["properties"]) == {"submission", "category", "time_of_day"} for f in features)
    assert len(_sensitive_reads()) == 1
    assert AuditEvent.objects.filter(action="maps.raw_read").count() == 1


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "words"),
    [
        ("age=34", "'age' is a sensitive integer question"),
        ("barriers=no_time", "'barriers' is a sensitive select_multiple question"),
        ("born_here=maybe", f"'maybe' is not a choice of 'born_here'; choices: {HERE}, {ABROAD}"),
    ],
)
def test_a_sensitive_group_that_cannot_group_figures_is_refused(
    cast: Cast, form: Form, group: str, words: str
) -> None:
    set_sensitive_questions(
        acting_user=None, origin=SYSTEM, project=cast.survey, names=["age", "barriers"]
    )
    response = _get(cast.viewer, form, f"hexagons?group={group}")
    assert response.status_code == 422, response.content
    assert response.json()["extra"]["field"] == "group"
    assert words in response.json()["message"]
    assert _sensitive_reads() == []


def test_a_sensitive_question_inside_a_repeat_is_refused(cast: Cast, form: Form) -> None:
    set_sensitive_questions(
        acting_user=None, origin=SYSTEM, project=cast.survey, names=["member_age"]
    )
    with pytest.raises(InvalidInput, match="'member_age' is a sensitive integer question inside"):
        levels_by_submission(form, "member_age", reason="test", actor=None, origin=SYSTEM)
    with pytest.raises(InvalidInput, match="'tenure' is not a sensitive question"):
        levels_by_submission(form, "tenure", reason="test", actor=None, origin=SYSTEM)
    assert _sensitive_reads() == []


# --- the levels kept in memory ---------------------------------------------------------


def test_the_kept_levels_are_replaced_after_a_new_submission(
    cast: Cast, form: Form, monkeypatch: pytest.MonkeyPatch
) -> None:
    decrypted: list[int] = []
    original = sensitive_groups._decrypt

    def counting(*args: Any) -> Any:
        decrypted.append(1)
        return original(*args)

    monkeypatch.setattr(sensitive_groups, "_decrypt", counting)

    def read() -> sensitive_groups.SensitiveLevels:
        return levels_by_submission(form, "born_here", reason="test", actor=None, origin=SYSTEM)

    first = read()
    assert read() is first
    assert len(decrypted) == 1
    abroad = sum(n for n, _ in PLAN.values())
    assert first.members(ABROAD).size == abroad
    stored(form, cast.fieldworker, born_here=ABROAD, places=[mark(*A, "unsafe")])
    second = read()
    assert len(decrypted) == 2
    assert second.members(ABROAD).size == abroad + 1
    assert second.as_dict() == {
        s.pk: decrypt_json(s.sensitive or b"")["born_here"]
        for s in Submission.objects.filter(form=form)
    }
    layer = _get(cast.viewer, form, f"hexagons?resolution=9&group=born_here={ABROAD}").json()
    assert _totals(layer)[_finest_parent(*A)] == PLAN[A][0] + 1
    # A withdrawal purges the derived stores: the levels are decrypted afresh.
    derived.purge({form.pk})
    read()
    assert len(decrypted) == 3
    assert len(_sensitive_reads()) == 5  # every call is a read (4 here, 1 by the layer)


def test_the_levels_join_in_duckdb_from_memory(form: Form) -> None:
    """The form a cross-table would use: an in-memory Arrow table, no file."""
    levels = levels_by_submission(form, "born_here", reason="test", actor=None, origin=SYSTEM)
    with duckdb.connect() as connection:
        connection.register("secret", levels.as_arrow())
        counted = dict(
            connection.execute(
                "SELECT born_here::VARCHAR, count(*) FROM secret GROUP BY 1"
            ).fetchall()
        )
    assert counted == {
        ABROAD: sum(abroad for abroad, _ in PLAN.values()),
        HERE: sum(here for _, here in PLAN.values()),
    }


def test_more_than_three_groups_are_refused(cast: Cast, form: Form) -> None:
    groups = "&".join(f"group=tenure={level}" for level in ("owner",) * 4)
    response = _get(cast.viewer, form, f"hexagons?{groups}")
    assert response.status_code == 422
    assert response.json()["message"] == "At most 3 groups in one layer."


def _files(root: Path) -> dict[Path, tuple[float, int]]:
    return {
        path: (path.stat().st_mtime, path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file()
    }


def test_no_decrypted_answer_is_written_to_disk(
    cast: Cast, form: Form, settings: Any, tmp_path: Path
) -> None:
    # A file cache, as a single-machine deployment has: published layers go to disk.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    roots = [Path(settings.DATA_DIR), tmp_path]
    before = {root: _files(root) for root in roots}
    for endpoint in ("hexagons", "areas", "hotspots", "points?scope=raw&"):
        joiner = "" if endpoint.endswith("&") else "?"
        user = cast.researcher if "raw" in endpoint else cast.viewer
        response = _get(user, form, f"{endpoint}{joiner}group=born_here={ABROAD}")
        assert response.status_code == 200, (endpoint, response.content)
    written = [
        path
        for root in roots
        for path, stamp in _files(root).items()
        if before[root].get(path) != stamp
    ]
    assert any("cache" in str(path) for path in written)  # the layers were written
    for path in written:
        content = path.read_bytes()
        # The level asked for is in the layer's own description; the other level, which
        # 36 of the stored answers hold, must be nowhere.
        assert HERE.encode() not in content, path
    # Nor is any level in the typed answers, which the snapshot and exports read.
    assert not Answer.objects.filter(form=form, name="born_here").exists()
    assert not Answer.objects.filter(text__in=[HERE, ABROAD]).exists()


# --- differencing: a property of the gate ------------------------------------------------

ORIGIN = "89195c0594bffff"
CELLS = sorted(h3.grid_disk(ORIGIN, 1))
CATEGORIES = ("safe", "unsafe", "resource")


Tally = dict[tuple[int, int], tuple[int, int]]  # (cell, category) -> (in group, others)


def _counts(tally: Tally, *, group_only: bool) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for (cell, category), (in_group, others) in tally.items():
        n = in_group if group_only else in_group + others
        if n:
            found.setdefault(CELLS[cell], {})[CATEGORIES[category]] = n
    return found


def _derivable(properties: dict[str, Any]) -> dict[str, int | None]:
    """A row as a reader sees it, with whatever its own total gives away filled in."""
    row: dict[str, int | None] = dict(properties["counts"])
    total = properties["total"]
    hidden = [name for name, n in row.items() if n is None]
    if total is not None and len(hidden) == 1:
        row[hidden[0]] = total - sum(n for n in row.values() if n is not None)
    row["__total__"] = total
    if total is None and not hidden:
        row["__total__"] = sum(n for n in row.values() if n is not None)
    return row


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    tally=st.dictionaries(
        st.tuples(st.integers(0, len(CELLS) - 1), st.integers(0, len(CATEGORIES) - 1)),
        st.tuples(st.integers(0, 25), st.integers(0, 25)),
        max_size=len(CELLS) * len(CATEGORIES),
    ),
    threshold=st.integers(3, 12),
)
def test_no_complement_count_below_the_threshold_follows_from_two_layers(
    tally: Tally, threshold: int
) -> None:
    everyone, group = _counts(tally, group_only=False), _counts(tally, group_only=True)
    # The unfiltered layer, as build publishes it.
    cells = CellCounts(RESOLUTION, CATEGORIES, everyone)
    units = merge_small(cells, threshold)
    wide, _ = published_features(units, protect_units(units, CATEGORIES, threshold), None)
    # The filtered layer: one filter (the group), its mask being `group`.
    gate = LayerGate(lambda active: group if active else everyone, 1, CATEGORIES, threshold)
    narrow_units = _unmerged(CellCounts(RESOLUTION, CATEGORIES, group))
    narrow, _ = published_features(narrow_units, _protected_units(narrow_units, gate), None)
    wide_by_id = {f["id"]: f["properties"] for f in wide}
    merged_members = {member for unit in units if unit.kind == "merged" for member in unit.members}
    for feature in narrow:
        assert feature["properties"]["kind"] == "cell"
        assert feature["id"] not in merged_members
        if feature["id"] not in wide_by_id:
            continue
        mine = _derivable(feature["properties"])
        theirs = _derivable(wide_by_id[feature["id"]])
        for key, n in mine.items():
            wider = theirs[key]
            if n is not None and wider is not None:
                assert not 0 < wider - n < threshold, (feature["id"], key)
        # Shown counts are exact.
        exact = group[feature["id"]]
        for name in CATEGORIES:
            shown = feature["properties"]["counts"][name]
            assert shown is None or shown == exact.get(name, 0)
