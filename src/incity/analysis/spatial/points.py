"""Read the observations of a hotspot analysis from a CSV or GeoJSON file.

Coordinates end up planar: longitude/latitude are projected to the UTM zone of the data's
centre (pyproj), so a distance band is in metres; `planar=True` takes x/y as they are.
Polygons are replaced by their centroids (computed after projection).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import shape
from shapely.validation import explain_validity

from incity.errors import InvalidInput

_LONGITUDE_NAMES = ("lon", "lng", "long", "longitude")
_LATITUDE_NAMES = ("lat", "latitude")
_INTEGRAL_DECIMAL = re.compile(r"^-?\d+\.0*$")


@dataclass(frozen=True)
class PointTable:
    ids: tuple[str, ...]
    values: NDArray[np.float64]
    coordinates: NDArray[np.float64] | None  # (n, 2), planar; None when not needed nor given
    crs: str
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Raw:
    """Rows as read, before projection: ids, values, x/lon, y/lat, geometries if GeoJSON."""

    ids: list[str]
    values: list[float]
    xs: list[float]
    ys: list[float]
    geographic: bool
    geometries: list[Any] | None
    notes: tuple[str, ...]


def read_points(
    path: Path,
    *,
    value: str,
    id_column: str | None = None,
    planar: bool = False,
    need_coordinates: bool = True,
) -> PointTable:
    """Ids, values and planar coordinates; a CSV may lack coordinates if weights come
    from a GAL file (`need_coordinates=False`)."""
    text = _read_text(path)
    if path.suffix.lower() in (".geojson", ".json") or text.lstrip().startswith("{"):
        raw = _read_geojson(text, path.name, value=value, id_column=id_column, planar=planar)
    else:
        raw = _read_csv(
            text,
            path.name,
            value=value,
            id_column=id_column,
            planar=planar,
            need_coordinates=need_coordinates,
        )
    return _finish(raw, planar=planar)


def utm_epsg(longitudes: NDArray[np.float64], latitudes: NDArray[np.float64]) -> int:
    """EPSG code of the WGS84 UTM zone containing the centre of the data."""
    centre_lon = float(np.mean(longitudes))
    zone = min(60, max(1, int((centre_lon + 180.0) // 6.0) + 1))
    return (32600 if float(np.mean(latitudes)) >= 0 else 32700) + zone


def project_lonlat(
    longitudes: NDArray[np.float64], latitudes: NDArray[np.float64]
) -> tuple[NDArray[np.float64], str]:
    epsg = utm_epsg(longitudes, latitudes)
    transformer = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    x, y = transformer.transform(longitudes, latitudes)
    return np.column_stack([x, y]).astype(np.float64), f"EPSG:{epsg}"


def _read_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput("file", f"{path} does not exist.") from None
    except IsADirectoryError:
        raise InvalidInput("file", f"{path} is a folder, not a file.") from None
    except UnicodeDecodeError:
        raise InvalidInput("file", f"{path.name} is not UTF-8 text (CSV or GeoJSON).") from None
    if not text.strip():
        raise InvalidInput("file", f"{path.name} is empty.")
    return text


def _normalise_id(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = str(raw).strip()
    # "1.0" (a spreadsheet's or a DBF's number) and "1" in a GAL file are the same id.
    return text.split(".")[0] if _INTEGRAL_DECIMAL.match(text) else text


def _number(raw: object, *, what: str, where: str) -> float:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise InvalidInput(what, f"{where}: {what} is empty.")
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(what, f"{where}: {what} has text {str(raw)!r}, not a number.") from None
    if not math.isfinite(number):
        raise InvalidInput(what, f"{where}: {what} is {raw!r}, not a finite number.")
    return number


def _find_column(header: Sequence[str], names: Iterable[str]) -> str | None:
    lowered = {column.strip().lower(): column for column in header}
    return next((lowered[name] for name in names if name in lowered), None)


def _read_csv(
    text: str,
    name: str,
    *,
    value: str,
    id_column: str | None,
    planar: bool,
    need_coordinates: bool,
) -> _Raw:
    reader = csv.DictReader(io.StringIO(text))
    header = list(reader.fieldnames or [])
    for wanted in (value, id_column):
        if wanted is not None and wanted not in header:
            raise InvalidInput(
                "column", f"{name} has no column {wanted!r}; its columns are {', '.join(header)}."
            )
    lon, lat = _find_column(header, _LONGITUDE_NAMES), _find_column(header, _LATITUDE_NAMES)
    geographic = lon is not None and lat is not None
    x_name, y_name = (
        (lon, lat) if geographic else (_find_column(header, ["x"]), _find_column(header, ["y"]))
    )
    if (x_name is None or y_name is None) and not need_coordinates:
        x_name = y_name = None
    elif x_name is None or y_name is None:
        raise InvalidInput(
            "column", f"{name} has no coordinate columns: expected lon and lat, or x and y."
        )
    ids: list[str] = []
    values: list[float] = []
    xs: list[float] = []
    ys: list[float] = []
    for number, row in enumerate(reader, start=1):
        where = f"{name} row {number}"
        values.append(_number(row.get(value), what=f"column {value!r}", where=where))
        if x_name is not None and y_name is not None:
            xs.append(_number(row.get(x_name), what=f"column {x_name!r}", where=where))
            ys.append(_number(row.get(y_name), what=f"column {y_name!r}", where=where))
        ids.append(_normalise_id(row.get(id_column)) if id_column else str(number))
    if not ids:
        raise InvalidInput("file", f"{name} has a header but no rows.")
    if x_name is None:
        return _Raw(
            ids, values, [], [], False, None, ("no coordinates: weights from the GAL file",)
        )
    return _Raw(ids, values, xs, ys, geographic and not planar, None, ())


def _read_geojson(text: str, name: str, *, value: str, id_column: str | None, planar: bool) -> _Raw:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "file", f"{name} is not valid JSON: {error.msg} at line {error.lineno}."
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("file", f"{name} is not a GeoJSON FeatureCollection.")
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput("file", f"{name}: a FeatureCollection needs a 'features' list.")
    if not features:
        raise InvalidInput("file", f"{name} has no features.")
    ids: list[str] = []
    values: list[float] = []
    geometries: list[Any] = []
    had_polygons = False
    for number, feature in enumerate(features, start=1):
        where = f"{name} feature {number}"
        properties, geometry = _feature_parts(feature, where)
        if value not in properties:
            raise InvalidInput("column", f"{where} has no property {value!r}.")
        values.append(_number(properties[value], what=f"property {value!r}", where=where))
        if id_column is not None and id_column not in properties:
            raise InvalidInput("column", f"{where} has no property {id_column!r}.")
        ids.append(_normalise_id(properties[id_column]) if id_column else str(number))
        geometries.append(geometry)
        had_polygons = had_polygons or geometry.geom_type in ("Polygon", "MultiPolygon")
    bounds = np.array([geometry.bounds for geometry in geometries])
    notes = ("polygons are represented by their centroids",) if had_polygons else ()
    return _Raw(
        ids,
        values,
        list(bounds[:, 0]) + list(bounds[:, 2]),
        list(bounds[:, 1]) + list(bounds[:, 3]),
        not planar,
        geometries,
        notes,
    )


def _feature_parts(feature: object, where: str) -> tuple[dict[str, Any], Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidInput("file", f"{where} is not a GeoJSON Feature.")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput("file", f"{where}: 'properties' must be an object.")
    raw_geometry = feature.get("geometry")
    if not isinstance(raw_geometry, dict):
        raise InvalidInput("geometry", f"{where} has no geometry.")
    kind = raw_geometry.get("type")
    if kind not in ("Point", "Polygon", "MultiPolygon"):
        raise InvalidInput(
            "geometry",
            f"{where} is a {kind}; hotspots take Point, Polygon or MultiPolygon features.",
        )
    try:
        geometry = shape(raw_geometry)
    except Exception as error:  # shapely raises several types for malformed coordinates
        raise InvalidInput("geometry", f"{where} has malformed coordinates: {error}.") from None
    if geometry.is_empty or not np.isfinite(geometry.bounds).all():
        raise InvalidInput("geometry", f"{where} has empty or non-finite coordinates.")
    if not geometry.is_valid:
        raise InvalidInput(
            "geometry", f"{where} is not a valid {kind}: {explain_validity(geometry)}."
        )
    return properties, geometry


def _check_lonlat(raw: _Raw, name_x: str, name_y: str) -> None:
    lon, lat = np.asarray(raw.xs), np.asarray(raw.ys)
    bad = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if not len(bad):
        return
    first = int(bad[0]) % len(raw.ids)
    if (np.abs(lon) <= 90).all() and (np.abs(lat) <= 180).all():
        raise InvalidInput(
            "coordinates",
            f"{name_y} values up to {np.abs(lat).max():g} are not latitudes; longitude and "
            f"latitude look swapped (first at id {raw.ids[first]}).",
        )
    raise InvalidInput(
        "coordinates",
        f"id {raw.ids[first]} has {name_x} {lon[bad[0]]:g}, {name_y} {lat[bad[0]]:g}: outside "
        "-180..180 / -90..90; for projected x/y coordinates add --planar.",
    )


def _finish(raw: _Raw, *, planar: bool) -> PointTable:
    _refuse_duplicate_ids(raw.ids)
    values = np.asarray(raw.values, dtype=np.float64)
    crs = "planar (as given)"
    if raw.geographic:
        names = ("longitude", "latitude")
        _check_lonlat(raw, *names)
    if raw.geometries is None and not raw.xs:
        return PointTable(tuple(raw.ids), values, None, "none", raw.notes)
    if raw.geometries is None:
        coordinates = np.column_stack([raw.xs, raw.ys]).astype(np.float64)
        if raw.geographic:
            coordinates, crs = project_lonlat(coordinates[:, 0], coordinates[:, 1])
            crs = f"{crs} (UTM, projected from longitude/latitude; distances in metres)"
        return PointTable(tuple(raw.ids), values, coordinates, crs, raw.notes)
    geometries = np.asarray(raw.geometries, dtype=object)
    if raw.geographic:
        bounds = shapely.bounds(geometries)
        epsg = utm_epsg(bounds[:, [0, 2]].ravel(), bounds[:, [1, 3]].ravel())
        transformer = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
        geometries = shapely.transform(
            geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
        crs = f"EPSG:{epsg} (UTM, projected from longitude/latitude; distances in metres)"
    centroids = shapely.centroid(geometries)
    coordinates = np.column_stack([shapely.get_x(centroids), shapely.get_y(centroids)])
    return PointTable(tuple(raw.ids), values, coordinates.astype(np.float64), crs, raw.notes)


def _refuse_duplicate_ids(ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for identifier in ids:
        if not identifier:
            raise InvalidInput("id", "an id is empty; every row needs an id in the --id column.")
        if identifier in seen:
            raise InvalidInput("id", f"id {identifier} appears more than once in the --id column.")
        seen.add(identifier)
