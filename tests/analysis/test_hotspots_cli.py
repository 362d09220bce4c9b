"""`incity stats hotspots` and `incity stats moran` as an analyst meets them: real files in
a temporary folder, figures checked against esda, and one clear refusal per bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import esda
import libpysal
import numpy as np
import pytest

from incity.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")

EXAMPLES = Path(libpysal.examples.get_path("columbus.gal")).parents[1]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["stats", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _berlin_points(tmp_path: Path, n: int = 120) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(21)
    lon = 13.40 + rng.uniform(-0.04, 0.04, n)
    lat = 52.52 + rng.uniform(-0.025, 0.025, n)
    marks = rng.poisson(2.0, n) + 8 * ((lon < 13.39) & (lat < 52.51))
    rows = [[f"m{i}", lon[i], lat[i], int(marks[i])] for i in range(n)]
    return _write_csv(tmp_path / "marks.csv", ["mark", "lon", "lat", "unsafe"], rows), marks


def _columbus_geojson(tmp_path: Path) -> Path:
    return Path(shutil.copy(EXAMPLES / "columbus" / "columbus.json", tmp_path / "columbus.json"))


def _columbus_gal(tmp_path: Path) -> Path:
    return Path(shutil.copy(EXAMPLES / "columbus" / "columbus.gal", tmp_path / "columbus.gal"))


def _columbus_reference() -> tuple[np.ndarray, libpysal.weights.W]:
    table = libpysal.io.open(str(EXAMPLES / "columbus" / "columbus.dbf"))
    weights = libpysal.io.open(str(EXAMPLES / "columbus" / "columbus.gal")).read()
    return np.array(table.by_col("CRIME"), dtype=float), weights


# --- what works --------------------------------------------------------------------------


def test_hotspots_on_columbus_with_its_gal_file_and_id_column_equal_esda(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(
        [
            "hotspots",
            str(_columbus_geojson(tmp_path)),
            "--value",
            "CRIME",
            "--weights",
            str(_columbus_gal(tmp_path)),
            "--id",
            "POLYID",
            "--star",
            "--transform",
            "B",
            "--planar",
        ],
        capsys,
    )
    assert status == 0, err
    assert "polygons are represented by their centroids" in err
    rows = list(csv.DictReader(out.splitlines()))
    assert [row["id"] for row in rows] == [str(i) for i in range(1, 50)]
    values, weights = _columbus_reference()
    reference = esda.G_Local(values, weights, transform="B", star=True, permutations=0)
    z = np.array([float(row["z"]) for row in rows])
    assert np.abs(z - reference.Zs).max() < 1e-9
    assert {row["label"] for row in rows} <= {"hot", "cold", ""}
    assert any(row["label"] == "hot" for row in rows)


def test_moran_on_columbus_prints_the_global_figures_of_esda(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(
        [
            "moran",
            str(_columbus_geojson(tmp_path)),
            "--value",
            "CRIME",
            "--weights",
            str(_columbus_gal(tmp_path)),
            "--id",
            "POLYID",
            "--planar",
            "--seed",
            "3",
        ],
        capsys,
    )
    assert status == 0, err
    document = json.loads(out)
    values, weights = _columbus_reference()
    np.random.seed(3)
    reference = esda.Moran(values, weights, permutations=999)
    for name in ("I", "EI", "VI_norm", "VI_rand", "z_norm", "z_rand", "p_norm", "p_rand"):
        assert abs(document[name] - getattr(reference, name)) < 1e-9
    assert document["p_sim"] == reference.p_sim
    assert document["seed"] == 3


def test_hotspots_on_lonlat_csv_with_a_distance_band_in_metres_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _berlin_points(tmp_path)
    status, out, err = _run(
        [
            "hotspots",
            str(path),
            "--value",
            "unsafe",
            "--distance",
            "1200",
            "--id",
            "mark",
            "--star",
            "--format",
            "json",
            "--permutations",
            "99",
        ],
        capsys,
    )
    assert status == 0, err
    document = json.loads(out)
    assert document["statistic"] == "Gi*"
    assert document["coordinates"].startswith("EPSG:32633")
    assert len(document["features"]) == 120
    assert document["features"][0]["id"] == "m0"
    assert any(feature["label"] == "hot" for feature in document["features"])


def test_local_moran_on_a_planar_csv_with_k_nearest_neighbours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 1000, (80, 2))
    values = points[:, 0] / 100 + rng.normal(0, 1, 80)
    path = _write_csv(
        tmp_path / "points.csv", ["x", "y", "score"], [[*p, v] for p, v in zip(points, values)]
    )
    status, out, err = _run(
        ["hotspots", str(path), "--value", "score", "--k", "6", "--statistic", "local-moran"],
        capsys,
    )
    assert status == 0, err
    rows = list(csv.DictReader(out.splitlines()))
    reference = esda.Moran_Local(
        values, libpysal.weights.KNN(points, k=6), permutations=999, seed=12345
    )
    assert np.abs(np.array([float(r["I"]) for r in rows]) - reference.Is).max() < 1e-9
    assert {r["label"] for r in rows} <= {"high-high", "low-low", "high-low", "low-high", ""}


def test_geojson_points_are_read_as_lonlat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(2)
    features = [
        {
            "type": "Feature",
            "properties": {"n": int(rng.poisson(3))},
            "geometry": {
                "type": "Point",
                "coordinates": [18.06 + rng.uniform(0, 0.02), 59.33 + rng.uniform(0, 0.01)],
            },
        }
        for _ in range(30)
    ]
    path = tmp_path / "marks.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    status, out, err = _run(["hotspots", str(path), "--value", "n", "--k", "4"], capsys)
    assert status == 0, err
    assert len(out.splitlines()) == 31


# --- refusals: one stderr line, non-zero exit, nothing on stdout --------------------------


def _refused(args: list[str], capsys: pytest.CaptureFixture[str], *expected: str) -> None:
    status, out, err = _run(args, capsys)
    assert status != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    for fragment in expected:
        assert fragment in err, err


def test_it_refuses_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    _refused(["hotspots", str(path), "--value", "n", "--k", "3"], capsys, "not valid JSON")


def test_it_refuses_json_that_is_not_a_feature_collection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text('{"type": "Point", "coordinates": [1, 2]}')
    _refused(
        ["hotspots", str(path), "--value", "n", "--k", "3"],
        capsys,
        "not a GeoJSON FeatureCollection",
    )


def test_it_refuses_a_feature_without_geometry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"n": 1}, "geometry": None}],
            }
        )
    )
    _refused(
        ["hotspots", str(path), "--value", "n", "--k", "3"], capsys, "feature 1 has no geometry"
    )


def test_it_refuses_a_self_intersecting_polygon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"n": 1},
                        "geometry": {"type": "Polygon", "coordinates": bowtie},
                    }
                ],
            }
        )
    )
    _refused(
        ["hotspots", str(path), "--value", "n", "--k", "3"],
        capsys,
        "not a valid Polygon",
        "Self-intersection",
    )


def test_it_refuses_line_features(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"n": 1},
                        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                    }
                ],
            }
        )
    )
    _refused(["hotspots", str(path), "--value", "n", "--k", "3"], capsys, "LineString")


def test_it_refuses_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    _refused(["hotspots", str(path), "--value", "n", "--k", "3"], capsys, "empty.csv is empty")


def test_it_refuses_a_csv_with_only_a_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(tmp_path / "head.csv", ["x", "y", "n"], [])
    _refused(["hotspots", str(path), "--value", "n", "--k", "3"], capsys, "no rows")


def test_it_refuses_a_feature_collection_without_features(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    _refused(["moran", str(path), "--value", "n", "--k", "3"], capsys, "has no features")


def test_it_refuses_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(
        ["hotspots", str(tmp_path / "nope.csv"), "--value", "n", "--k", "3"],
        capsys,
        "does not exist",
    )


def test_it_refuses_latitudes_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(
        tmp_path / "far.csv",
        ["lon", "lat", "n"],
        [[13.4, 52.5, 1], [213.4, 95.0, 2], [13.5, 52.6, 3]],
    )
    _refused(
        ["hotspots", str(path), "--value", "n", "--k", "1"], capsys, "outside -180..180", "--planar"
    )


def test_it_says_when_longitude_and_latitude_look_swapped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Someone put Rio de Janeiro's latitude in the longitude column and vice versa.
    path = _write_csv(
        tmp_path / "swapped.csv",
        ["lon", "lat", "n"],
        [[-22.9, -43.2, 1], [-22.95, -43.25, 2], [-22.91, -43.1, 3], [-22.8, -143.1, 3]],
    )
    _refused(["hotspots", str(path), "--value", "n", "--k", "1"], capsys, "look swapped")


def test_it_refuses_text_in_the_value_column_naming_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(
        tmp_path / "text.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, "many"], [0, 1, 3]]
    )
    _refused(["hotspots", str(path), "--value", "n", "--k", "1"], capsys, "row 2", "'many'")


def test_it_refuses_an_empty_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_csv(tmp_path / "gap.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, ""], [0, 1, 3]])
    _refused(["hotspots", str(path), "--value", "n", "--k", "1"], capsys, "row 2", "is empty")


def test_it_refuses_a_missing_value_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(tmp_path / "cols.csv", ["x", "y", "n"], [[0, 0, 1]])
    _refused(["hotspots", str(path), "--value", "count", "--k", "1"], capsys, "no column 'count'")


def test_it_refuses_a_csv_without_coordinates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(tmp_path / "nocoords.csv", ["street", "n"], [["a", 1]])
    _refused(["hotspots", str(path), "--value", "n", "--k", "1"], capsys, "no coordinate columns")


def test_it_refuses_fewer_points_than_the_method_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(tmp_path / "three.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2], [0, 1, 5]])
    _refused(["moran", str(path), "--value", "n", "--k", "2"], capsys, "at least 4 observations")


def test_it_refuses_a_band_that_leaves_islands_and_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["a", 0, 0, 1], ["b", 1, 0, 2], ["c", 0, 1, 3], ["far", 50, 50, 4], ["d", 1, 1, 2]]
    path = _write_csv(tmp_path / "island.csv", ["name", "x", "y", "n"], rows)
    _refused(
        ["hotspots", str(path), "--value", "n", "--distance", "2", "--id", "name"],
        capsys,
        "islands",
        "far",
    )


def test_it_refuses_k_not_below_the_number_of_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(
        tmp_path / "four.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2], [0, 1, 5], [1, 1, 2]]
    )
    _refused(["hotspots", str(path), "--value", "n", "--k", "4"], capsys, "--k 4", "has 4")


def test_it_refuses_a_gal_file_naming_unknown_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gal = tmp_path / "w.gal"
    gal.write_text("4\n1 1\n2\n2 2\n1 3\n3 2\n2 9\n9 1\n3\n")
    path = _write_csv(
        tmp_path / "four.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2], [0, 1, 5], [1, 1, 2]]
    )
    _refused(
        ["hotspots", str(path), "--value", "n", "--weights", str(gal)], capsys, "not in the data: 9"
    )


def test_it_refuses_gal_ids_that_do_not_match_the_id_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values, _ = _columbus_reference()
    path = _write_csv(
        tmp_path / "crime.csv", ["code", "crime"], [[f"C{i}", v] for i, v in enumerate(values)]
    )
    _refused(
        [
            "hotspots",
            str(path),
            "--value",
            "crime",
            "--weights",
            str(_columbus_gal(tmp_path)),
            "--id",
            "code",
        ],
        capsys,
        "names ids that are not in the data",
    )


def test_it_refuses_an_asymmetric_gal_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gal = tmp_path / "w.gal"
    gal.write_text("3\n1 2\n2 3\n2 1\n3\n3 1\n2\n")
    path = _write_csv(tmp_path / "three.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2], [0, 1, 5]])
    _refused(
        ["hotspots", str(path), "--value", "n", "--weights", str(gal)],
        capsys,
        "not symmetric",
        "id 1 lists 2",
    )


def test_it_refuses_a_malformed_gal_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gal = tmp_path / "w.gal"
    gal.write_text("3\n1 2\n2\n")
    path = _write_csv(tmp_path / "three.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2], [0, 1, 5]])
    _refused(
        ["hotspots", str(path), "--value", "n", "--weights", str(gal)],
        capsys,
        "has 2 neighbours but lists 1",
    )


def test_it_refuses_a_gal_count_that_does_not_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gal = tmp_path / "w.gal"
    gal.write_text("5\n1 1\n2\n2 1\n1\n")
    path = _write_csv(tmp_path / "two.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, 2]])
    _refused(
        ["hotspots", str(path), "--value", "n", "--weights", str(gal)], capsys, "announces 5 ids"
    )


def test_it_refuses_negative_values_for_getis_ord(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(
        tmp_path / "neg.csv", ["x", "y", "n"], [[0, 0, 1], [1, 0, -2], [0, 1, 5], [1, 1, 2]]
    )
    _refused(["hotspots", str(path), "--value", "n", "--k", "2"], capsys, "non-negative")


def test_it_refuses_a_constant_value_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write_csv(
        tmp_path / "flat.csv", ["x", "y", "n"], [[0, 0, 2], [1, 0, 2], [0, 1, 2], [1, 1, 2]]
    )
    _refused(["moran", str(path), "--value", "n", "--k", "2"], capsys, "values that vary")


def test_it_refuses_duplicate_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_csv(
        tmp_path / "dup.csv",
        ["id", "x", "y", "n"],
        [["a", 0, 0, 1], ["a", 1, 0, 2], ["b", 0, 1, 5]],
    )
    _refused(
        ["hotspots", str(path), "--value", "n", "--k", "1", "--id", "id"],
        capsys,
        "id a appears more than once",
    )


def test_it_refuses_two_kinds_of_weights_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _berlin_points(tmp_path)
    _refused(
        ["hotspots", str(path), "--value", "unsafe", "--k", "3", "--distance", "500"],
        capsys,
        "exactly one of",
    )


def test_it_refuses_no_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _berlin_points(tmp_path)
    _refused(["moran", str(path), "--value", "unsafe"], capsys, "exactly one of")


def test_it_refuses_a_non_positive_distance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _berlin_points(tmp_path)
    _refused(
        ["hotspots", str(path), "--value", "unsafe", "--distance", "0"], capsys, "positive number"
    )


def test_it_refuses_local_moran_without_enough_permutations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _berlin_points(tmp_path)
    _refused(
        [
            "hotspots",
            str(path),
            "--value",
            "unsafe",
            "--k",
            "5",
            "--statistic",
            "local-moran",
            "--permutations",
            "0",
        ],
        capsys,
        "--permutations 99 or more",
    )


def test_it_refuses_an_alpha_outside_zero_and_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _berlin_points(tmp_path)
    _refused(
        ["hotspots", str(path), "--value", "unsafe", "--k", "5", "--alpha", "5"], capsys, "--alpha"
    )
