"""The published hexagon layer for a million map marks, through the real HTTP path.

One synthetic form in a synthetic 8 x 8 km project area (four neighbourhoods) gets
INCITY_BENCH_MARKS map marks (default 1,000,000: 100,000 submissions of 10 marks each,
in four categories and three times of day, 70 % of them clustered around five synthetic
dark spots). The rows are written in bulk (Submission via bulk_create, the typed
`Answer` rows with one prepared statement, as `submissions._insert_typed` does), so the
seeding is not what is measured.

Then a city lead's bearer token asks `GET /api/v1/forms/{form}/layers/hexagons` through
Django's test client (auth, permission, parameter checks, data version, cache, JSON):

- cold: nothing loaded, empty cache (data version + load marks + aggregate + gate);
- warm: the same parameters again (median of WARM_REPEATS);
- other filters (time=night, category=unsafe): first request (marks already loaded,
  aggregation and gate run) and repeated (median);
- baseline: the naive path per request: read every mark row from the database,
  find each mark's cell with `h3.latlng_to_cell` in Python, count, and put the counts
  through the same merge and gate (median of BASELINE_REPEATS). Its features must equal
  the layer's, or the benchmark fails.

The peak traced memory (tracemalloc) of the cold request is measured in a separate
cold run. Details go to stderr.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.access_bench import Row

MARKS = int(os.environ.get("INCITY_BENCH_MARKS", "1000000"))
MARKS_PER_SUBMISSION = 10
WARM_REPEATS = 20
BASELINE_REPEATS = 3
SEED = 11
CATEGORIES = ("safe", "unsafe", "resource", "meeting_place")
CATEGORY_WEIGHTS = (0.35, 0.4, 0.15, 0.1)
TIMES = ("day", "evening", "night")
# A synthetic city: 8 x 8 km around (10.0 E, 50.0 N), split into four neighbourhoods.
WEST, SOUTH, EAST, NORTH = 9.944, 49.964, 10.056, 50.036
DARK_SPOTS = ((9.97, 49.99), (10.02, 50.01), (10.03, 49.975), (9.96, 50.025), (10.0, 50.0))
SPOT_SHARE = 0.7
SPOT_SPREAD_DEGREES = 0.004  # about 300-450 m
CHUNK = 5_000  # submissions per insert
DAYS = 60  # the survey wave's length: received_at spread over it

_SUBMISSION_COLUMNS = (
    "id",
    "project_id",
    "form_id",
    "version_id",
    "instance_id",
    "answers",
    "language",
    "received_at",
    "device_id",
    "channel",
    "status",
    "status_reason",
    "revision",
    "is_synthetic",
    "typed_pending",
)
_ANSWER_COLUMNS = (
    "submission_id",
    "form_id",
    "path",
    "name",
    "repeat_path",
    "kind",
    "text",
    "number",
    "date",
    "geometry",
    "lat",
    "lon",
)

FORM_DEFINITION: dict[str, Any] = {
    "form_id": "layers_bench",
    "title": "Map layer benchmark (synthetic)",
    "default_language": "English (en)",
    "languages": ["English (en)"],
    "settings": {},
    "choices": {
        "mark_category": [
            {"name": name, "label": {"English (en)": name.replace("_", " ").capitalize()}}
            for name in CATEGORIES
        ]
    },
    "children": [
        {
            "type": "map_marks",
            "name": "places",
            "list_name": "mark_category",
            "label": {"English (en)": "Mark places (synthetic)"},
        }
    ],
}


def _say(text: str) -> None:
    print(f"  layers bench: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------


def _project_and_lead() -> tuple[str, str]:
    """A synthetic city with an active project, its four areas, and a lead's API token."""
    from incity.accounts import services
    from incity.accounts.audit import Origin
    from incity.accounts.models import Membership, Organisation, Project, User
    from incity.accounts.roles import ProjectState, Role
    from incity.places.services import import_boundaries

    origin = Origin(channel="bench")
    organisation = Organisation.objects.create(
        slug="bench-layers", name="Layer bench city (synthetic)", kind="city", is_synthetic=True
    )
    project = Project.objects.create(
        slug="bench-layers",
        name="Layer bench survey (synthetic)",
        organisation=organisation,
        state=ProjectState.ACTIVE,
        is_synthetic=True,
    )
    middle_lon, middle_lat = (WEST + EAST) / 2, (SOUTH + NORTH) / 2
    quarters = [
        (f"Quarter {index + 1} (synthetic)", (west, south, east, north))
        for index, (west, south, east, north) in enumerate(
            [
                (WEST, SOUTH, middle_lon, middle_lat),
                (middle_lon, SOUTH, EAST, middle_lat),
                (WEST, middle_lat, middle_lon, NORTH),
                (middle_lon, middle_lat, EAST, NORTH),
            ]
        )
    ]
    boundaries = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": name},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
                },
            }
            for name, (w, s, e, n) in quarters
        ],
    }
    import_boundaries(
        acting_user=None,
        origin=origin,
        data=json.dumps(boundaries).encode(),
        filename="bench-city.geojson",
        project_slug=project.slug,
    )
    lead = User.objects.create(username="bench-layers-lead")
    Membership.objects.create(user=lead, organisation=organisation, role=Role.CITY_LEAD)
    _, token = services.create_api_token(
        acting_user=None, origin=origin, user=lead, name="layers bench"
    )
    return project.slug, token


def _form(project_slug: str) -> Any:
    from incity.accounts.audit import Origin
    from incity.surveys.services import forms as form_services

    origin = Origin(channel="bench")
    form = form_services.create_form(
        acting_user=None,
        origin=origin,
        project_slug=project_slug,
        definition=FORM_DEFINITION,
        is_synthetic=True,
    )
    form_services.publish_form(acting_user=None, origin=origin, form_pk=form.pk)
    form.refresh_from_db()
    return form


def _synthetic_marks(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Longitudes, latitudes, category and time codes: dark spots over a uniform background."""
    rng = np.random.default_rng(SEED)
    in_spot = rng.random(count) < SPOT_SHARE
    spots = np.asarray(DARK_SPOTS)[rng.integers(len(DARK_SPOTS), size=count)]
    near = spots + rng.normal(0.0, SPOT_SPREAD_DEGREES, (count, 2))
    anywhere = np.column_stack([rng.uniform(WEST, EAST, count), rng.uniform(SOUTH, NORTH, count)])
    points = np.where(in_spot[:, None], near, anywhere)
    points[:, 0] = points[:, 0].clip(WEST, EAST)
    points[:, 1] = points[:, 1].clip(SOUTH, NORTH)
    points = points.round(6)
    # Dark spots are mostly unsafe and mostly at night; the background is mixed.
    category = np.where(
        in_spot & (rng.random(count) < 0.6),
        CATEGORIES.index("unsafe"),
        rng.choice(len(CATEGORIES), size=count, p=CATEGORY_WEIGHTS),
    )
    times = np.where(
        in_spot & (rng.random(count) < 0.5), TIMES.index("night"), rng.integers(3, size=count)
    )
    return points[:, 0], points[:, 1], category, times


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Rows as plain tuples with one prepared statement (model instances cost more here)."""
    from django.db import connection

    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    placeholders = ", ".join("%s" for _ in columns)
    # Table and column names are our own constants, quoted; values are parameters.
    name = connection.ops.quote_name(table)
    sql = f"INSERT INTO {name} ({quoted}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def seed(form: Any, marks: int) -> int:
    """Write `marks` marks as submissions of MARKS_PER_SUBMISSION and their typed answers.

    Submissions get explicit ids (after the highest one) so that both tables can be
    written with executemany; values go through the model fields' own conversions.
    """
    from django.db import connection, transaction
    from django.db.models import Max

    from incity.surveys.models import Answer, Submission, SubmissionStatus

    lon, lat, category, times = _synthetic_marks(marks)
    version = form.versions.order_by("-number").first()
    received_field = Submission._meta.get_field("received_at")
    answers_field = Submission._meta.get_field("answers")
    started = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    next_id = (Submission.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    submissions = (marks + MARKS_PER_SUBMISSION - 1) // MARKS_PER_SUBMISSION
    for first in range(0, submissions, CHUNK):
        submission_rows = []
        answer_rows = []
        for number in range(first, min(first + CHUNK, submissions)):
            pk = next_id + number
            places = []
            for position, i in enumerate(
                range(
                    number * MARKS_PER_SUBMISSION, min((number + 1) * MARKS_PER_SUBMISSION, marks)
                ),
                start=1,
            ):
                geometry = {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]}
                name = CATEGORIES[category[i]]
                places.append(
                    {"geometry": geometry, "category": name, "time_of_day": TIMES[times[i]]}
                )
                answer_rows.append(
                    (pk, form.pk, f"places[{position}]", "places", "", "geometry", name,
                     None, None, json.dumps(geometry), float(lat[i]), float(lon[i]))
                )  # fmt: skip
            received = started + timedelta(minutes=number % (DAYS * 24 * 60))
            submission_rows.append(
                (pk, form.project_id, form.pk, version.pk, f"uuid:bench-{number}",
                 answers_field.get_db_prep_value({"places": places}, connection), "",
                 received_field.get_db_prep_value(received, connection), "", "bench",
                 SubmissionStatus.RECEIVED.value, "", 1, True, False)
            )  # fmt: skip
        with transaction.atomic():
            _insert(Submission._meta.db_table, _SUBMISSION_COLUMNS, submission_rows)
            _insert(Answer._meta.db_table, _ANSWER_COLUMNS, answer_rows)
    return submissions


# --------------------------------------------------------------------------------------
# The naive baseline: every mark from the database, cells in Python, the same gate
# --------------------------------------------------------------------------------------


def naive_layer(form: Any, *, time_of_day: str | None, category: str | None) -> list[Any]:
    """The published features computed from scratch, as a request would without columns."""
    import h3

    from incity.maps.layers.build import resolution_for
    from incity.maps.layers.gate import LayerGate
    from incity.maps.layers.hexagons import (
        CellCounts,
        Unit,
        merge_small,
        protect_units,
        published_features,
    )
    from incity.maps.layers.request import MAX_RESOLUTION, LayerParams, check_request
    from incity.surveys.models import Answer, Submission, SubmissionStatus

    request = check_request(
        form, LayerParams(question="places", time=time_of_day, category=category)
    )
    resolution = resolution_for(request)
    threshold = form.project.disclosure_threshold
    kept = Submission.objects.filter(form=form).exclude(status=SubmissionStatus.REJECTED)
    times: dict[int, list[Any]] = {}
    if time_of_day is not None:
        times = {pk: marks for pk, marks in kept.values_list("id", "answers__places")}
    rows = list(
        Answer.objects.filter(
            form=form,
            name="places",
            repeat_path="",
            kind="geometry",
            lat__isnull=False,
            lon__isnull=False,
            submission__in=kept.values("id"),
        ).values_list("submission_id", "path", "text", "lat", "lon")
    )

    def counts_for(active: frozenset[int]) -> dict[str, dict[str, int]]:
        """Cell counts with the time filter on (0 in `active`) or off."""
        counts: Counter[tuple[str, str]] = Counter()
        for pk, path, text, lat, lon in rows:
            if text not in CATEGORIES:
                continue
            if 0 in active:
                position = int(path[path.rindex("[") + 1 : -1]) - 1
                if times[pk][position].get("time_of_day") != time_of_day:
                    continue
            # As the layer does: a mark counts in the parent of its finest (resolution
            # 10) cell, which near a cell's edge is not always the cell of the point.
            finest = h3.latlng_to_cell(lat, lon, MAX_RESOLUTION)
            counts[(h3.cell_to_parent(finest, resolution), text)] += 1
        by_cell: dict[str, dict[str, int]] = {}
        for (cell, name), n in counts.items():
            by_cell.setdefault(cell, {})[name] = n
        return by_cell

    dimensions = 1 if time_of_day is not None else 0
    gate = LayerGate(counts_for, dimensions, CATEGORIES, threshold)
    cells = CellCounts(resolution, CATEGORIES, counts_for(gate.full))
    if not dimensions:
        units = merge_small(cells, threshold)
        protected = protect_units(units, CATEGORIES, threshold)
    else:
        # A filtered layer merges nothing and each cell is checked against the layer
        # without the filter (maps/layers/gate.py).
        units = [
            Unit(cell, "cell", resolution, dict(counts))
            for cell, counts in sorted(cells.counts.items())
        ]
        protected = {unit.id: gate.fixed(unit.id) for unit in units}
    features, _ = published_features(units, protected, category)
    return features


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def _median(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeats):
        elapsed, result = _timed(function)
        times.append(elapsed)
    return statistics.median(times), result


def _forget_everything() -> None:
    from django.core.cache import cache

    from incity.maps.layers.marks import forget_loaded

    forget_loaded()
    cache.clear()


def run() -> list[Row]:
    from django.test import Client

    project_slug, token = _project_and_lead()
    form = _form(project_slug)
    seed_ms, submissions = _timed(lambda: seed(form, MARKS))
    _say(f"seeded {MARKS:,} marks in {submissions:,} submissions in {seed_ms / 1000:.1f} s")

    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/forms/{form.pk}/layers/hexagons?question=places"
    filtered_url = url + "&time=night&category=unsafe"

    def get(address: str) -> dict[str, Any]:
        response = client.get(address)
        assert response.status_code == 200, response.content[:500]
        return dict(response.json())

    # A server process is long-lived: one refused request first pays the imports and
    # URL resolution once, so that "cold" below means cold data (marks not loaded,
    # nothing cached), not a cold process.
    assert client.get(url.replace("question=places", "question=nope")).status_code == 422
    _forget_everything()
    cold_ms, layer = _timed(lambda: get(url))
    _say(f"cold request {cold_ms:.0f} ms")
    warm_ms, warm_layer = _median(lambda: get(url), WARM_REPEATS)
    assert warm_layer == layer, "the warm layer differs from the cold one"
    first_filtered_ms, filtered = _timed(lambda: get(filtered_url))
    warm_filtered_ms, _ = _median(lambda: get(filtered_url), WARM_REPEATS)

    _say(f"warm {warm_ms:.1f} ms; night/unsafe first {first_filtered_ms:.0f} ms")
    baseline_ms, naive = _median(
        lambda: naive_layer(form, time_of_day=None, category=None), BASELINE_REPEATS
    )
    baseline_filtered_ms, naive_filtered = _median(
        lambda: naive_layer(form, time_of_day="night", category="unsafe"), BASELINE_REPEATS
    )
    # Round-trip through JSON so that tuples and lists compare as the API sends them.
    assert json.loads(json.dumps(naive)) == layer["features"], "baseline and layer disagree"
    assert json.loads(json.dumps(naive_filtered)) == filtered["features"], (
        "baseline and filtered layer disagree"
    )

    _forget_everything()
    tracemalloc.start()
    get(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    disclosure = layer["disclosure"]
    _say(
        f"resolution {layer['layer']['resolution']}, {len(layer['features'])} features "
        f"({disclosure['cells_published']} cells, {disclosure['cells_merged']} merged, "
        f"{disclosure['cells_suppressed_small'] + disclosure['cells_suppressed_secondary']} "
        f"hidden); night/unsafe: {len(filtered['features'])} features"
    )
    _say(
        f"cold {cold_ms:.0f} ms, warm median {warm_ms:.1f} ms, night/unsafe first "
        f"{first_filtered_ms:.0f} ms then {warm_filtered_ms:.1f} ms; naive "
        f"{baseline_ms:.0f} ms (night/unsafe {baseline_filtered_ms:.0f} ms); "
        f"cold request peak traced memory {peak / 2**20:.0f} MB"
    )
    size = f"{MARKS:,} marks"
    return [
        Row(f"hexagon layer, {size}, cold request vs naive per request", cold_ms, baseline_ms),
        Row(
            f"hexagon layer, {size}, warm request (median of {WARM_REPEATS})", warm_ms, baseline_ms
        ),
        Row(
            f"hexagon layer, {size}, time=night category=unsafe, first request",
            first_filtered_ms,
            baseline_filtered_ms,
        ),
        Row(
            f"hexagon layer, {size}, time=night category=unsafe, warm (median)",
            warm_filtered_ms,
            baseline_filtered_ms,
        ),
    ]
