"""Reading boundary files: every bad file is refused with the feature named, nothing stored."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from incity.errors import InvalidInput
from incity.places.boundaries import ogr_available, read_boundaries
from tests.places.geo import NORTH, RIVERTON, SOUTH, as_bytes, collection, feature, square

BOWTIE = [[[-1.92, 52.45], [-1.88, 52.50], [-1.88, 52.45], [-1.92, 52.50], [-1.92, 52.45]]]


def _refusal(data: bytes, filename: str = "areas.geojson", **options: object) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_boundaries(data, filename, **options)  # type: ignore[arg-type]
    assert refused.value.field == "file"
    return refused.value.message


def test_an_empty_file_is_refused() -> None:
    assert _refusal(b"  \n") == "The boundary file is empty."


def test_a_file_that_is_not_json_is_refused_with_the_line() -> None:
    message = _refusal(b'{"type": "FeatureCollection",\n "features": [}')
    assert message.startswith("The file is not valid JSON")
    assert "line 2" in message


def test_binary_data_named_geojson_is_refused_with_a_hint() -> None:
    assert "GeoPackage must end in .gpkg" in _refusal(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")


def test_json_that_is_not_geojson_is_refused() -> None:
    assert "not GeoJSON" in _refusal(b'["a", "list"]')


def test_a_bare_geometry_is_refused_because_it_has_no_names() -> None:
    message = _refusal(as_bytes({"type": "Polygon", "coordinates": square(0, 0, 1, 1)}))
    assert message.startswith("The GeoJSON is a Polygon; boundaries need a FeatureCollection")


def test_a_feature_collection_without_features_is_refused() -> None:
    assert _refusal(as_bytes(collection())) == "The FeatureCollection has no features."


def test_swapped_coordinates_are_named_as_swapped() -> None:
    # A ward in a city at longitude -122.3, latitude 47.6, written latitude first.
    swapped = feature("Swapped", [[[y, x] for x, y in square(-122.35, 47.60, -122.30, 47.65)[0]]])
    message = _refusal(as_bytes(collection(NORTH, swapped)))
    assert "feature 2 ('Swapped')" in message
    assert "look swapped (GeoJSON puts longitude first)" in message


def test_coordinates_in_metres_are_recognised() -> None:
    metres = feature("Projected", square(400000, 5800000, 401000, 5801000))
    message = _refusal(as_bytes(collection(metres)))
    assert "feature 1 ('Projected')" in message
    assert "look like metres" in message


def test_a_latitude_out_of_range_is_refused() -> None:
    wrong = feature("Pole", square(-200, 95, -190, 99))
    assert "outside longitude -180 to 180 or latitude -90 to 90" in _refusal(
        as_bytes(collection(wrong))
    )


def test_an_unclosed_ring_is_refused_naming_the_feature_and_ring() -> None:
    open_ring = feature("Open", [[*square(-1.92, 52.45, -1.88, 52.5)[0][:-1], [-1.91, 52.45]]])
    message = _refusal(as_bytes(collection(NORTH, open_ring)))
    assert "feature 2 ('Open'): ring 1 of polygon 1 is not closed" in message


def test_a_ring_with_too_few_positions_is_refused() -> None:
    short = feature("Short", [[[-1.9, 52.4], [-1.8, 52.4], [-1.9, 52.4]]])
    assert "fewer than 4 positions" in _refusal(as_bytes(collection(short)))


def test_a_point_is_not_a_boundary() -> None:
    point = feature("Dot", [-1.9, 52.4], kind="Point")
    assert "is a Point; boundaries must be Polygons or MultiPolygons" in _refusal(
        as_bytes(collection(point))
    )


def test_a_self_intersecting_ring_is_repaired_and_reported() -> None:
    boundaries = read_boundaries(as_bytes(collection(feature("Bowtie", BOWTIE))), "a.geojson")
    assert len(boundaries) == 1
    assert boundaries[0].repaired.startswith("feature 1 ('Bowtie'): Self-intersection")
    assert boundaries[0].repaired.endswith("repaired")
    assert boundaries[0].geometry["type"] in ("Polygon", "MultiPolygon")


def test_a_self_intersecting_ring_is_refused_when_repair_is_off() -> None:
    message = _refusal(as_bytes(collection(feature("Bowtie", BOWTIE))), repair=False)
    assert "feature 1 ('Bowtie') is not a valid area: Self-intersection" in message


def test_a_ring_that_encloses_nothing_cannot_be_repaired() -> None:
    flat = feature("Flat", [[[-1.9, 52.4], [-1.8, 52.4], [-1.7, 52.4], [-1.9, 52.4]]])
    assert "could not be repaired" in _refusal(as_bytes(collection(flat)))


def test_a_missing_name_field_lists_the_properties_there_are() -> None:
    message = _refusal(as_bytes(RIVERTON), name_field="NAME_2")
    assert "feature 1 has no 'NAME_2' property to name it (its properties: code, name)" in message


def test_an_empty_name_is_refused() -> None:
    assert "feature 1 has an empty 'name'" in _refusal(
        as_bytes(collection(feature("  ", square(0, 0, 1, 1))))
    )


def test_duplicate_names_are_refused_naming_both_features() -> None:
    twin = feature("riverton north", square(-1.95, 52.45, -1.93, 52.47))
    message = _refusal(as_bytes(collection(NORTH, SOUTH, twin)))
    assert "feature 3 ('riverton north') has the same name as feature 1" in message


def test_duplicate_codes_are_refused() -> None:
    twin = feature("Elsewhere", square(-1.95, 52.45, -1.93, 52.47), code="RN")
    message = _refusal(as_bytes(collection(NORTH, twin)), code_field="code")
    assert "the same code 'RN' as feature 1" in message


def test_every_problem_is_listed_not_only_the_first() -> None:
    with pytest.raises(InvalidInput) as refused:
        read_boundaries(
            as_bytes(
                collection(feature("", square(0, 0, 1, 1)), feature("Pole", square(0, 95, 1, 96)))
            ),
            "a.geojson",
        )
    assert refused.value.message.startswith("The boundary file has 2 problems")
    assert len(refused.value.extra["problems"]) == 2


def test_an_unknown_file_type_is_refused() -> None:
    assert "use GeoJSON (.geojson), GeoPackage (.gpkg)" in _refusal(b"x", "areas.kml")


def test_a_lone_shp_file_is_refused_with_how_to_zip_it() -> None:
    assert "zip the .shp with its .shx, .dbf and .prj" in _refusal(b"x", "areas.shp")


def test_a_good_file_gives_names_codes_and_geometries() -> None:
    boundaries = read_boundaries(as_bytes(RIVERTON), "r.geojson", code_field="code")
    assert [(b.name, b.code, b.repaired) for b in boundaries] == [
        ("Riverton North", "RN", ""),
        ("Riverton South", "RS", ""),
    ]
    assert boundaries[0].geometry["type"] == "Polygon"


def test_a_geojson_in_a_projected_crs_is_converted_to_longitude_latitude() -> None:
    from pyproj import Transformer

    to_metres = Transformer.from_crs(4326, 27700, always_xy=True)
    ring = [list(to_metres.transform(x, y)) for x, y in square(-1.92, 52.45, -1.88, 52.50)[0]]
    document = collection(feature("British grid", [ring]))
    document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    [boundary] = read_boundaries(as_bytes(document), "grid.geojson")
    west, south = boundary.geometry["coordinates"][0][0]
    assert west == pytest.approx(-1.92, abs=1e-6)
    assert south == pytest.approx(52.45, abs=1e-6)


needs_ogr = pytest.mark.skipif(not ogr_available(), reason="pyogrio is not installed")


def _written(tmp_path: Path, driver: str, filename: str) -> Path:
    import pyogrio

    source = tmp_path / "source.geojson"
    source.write_bytes(as_bytes(RIVERTON))
    target = tmp_path / filename
    frame_meta, _, geometry, fields = pyogrio.raw.read(source)
    pyogrio.raw.write(
        target,
        geometry,
        fields,
        fields=frame_meta["fields"],
        driver=driver,
        crs="EPSG:4326",
        geometry_type="Polygon",
    )
    return target


@needs_ogr
def test_a_geopackage_is_read(tmp_path: Path) -> None:
    path = _written(tmp_path, "GPKG", "riverton.gpkg")
    boundaries = read_boundaries(path.read_bytes(), "riverton.gpkg", code_field="code")
    assert sorted(b.name for b in boundaries) == ["Riverton North", "Riverton South"]


@needs_ogr
def test_a_zipped_shapefile_is_read(tmp_path: Path) -> None:
    _written(tmp_path, "ESRI Shapefile", "riverton.shp")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            zipped.write(tmp_path / f"riverton{suffix}", f"riverton{suffix}")
    boundaries = read_boundaries(archive.getvalue(), "riverton.zip")
    assert sorted(b.name for b in boundaries) == ["Riverton North", "Riverton South"]


@needs_ogr
def test_a_zip_without_the_dbf_is_refused(tmp_path: Path) -> None:
    _written(tmp_path, "ESRI Shapefile", "riverton.shp")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(tmp_path / "riverton.shp", "riverton.shp")
        zipped.write(tmp_path / "riverton.shx", "riverton.shx")
    assert "lacks its .dbf file(s)" in _refusal(archive.getvalue(), "riverton.zip")


@needs_ogr
def test_a_damaged_geopackage_is_refused() -> None:
    assert "could not be read as GeoPackage or Shapefile" in _refusal(
        b"SQLite format 3\x00" + b"\x00" * 200, "broken.gpkg"
    )


def test_geojson_text_is_accepted_with_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(RIVERTON).encode()
    assert len(read_boundaries(data, "bom.geojson")) == 2
