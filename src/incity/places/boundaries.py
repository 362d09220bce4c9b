"""Reading neighbourhood and ward boundaries from GeoJSON, GeoPackage and zipped Shapefiles.

Every feature is checked before anything is stored: a Polygon or MultiPolygon,
closed rings, longitude/latitude within range (with a hint when the order looks
swapped or the numbers look like metres), a non-empty name, unique names and
codes. Geometries shapely finds invalid (a self-intersecting ring, say) are
repaired with `make_valid` and the repair is reported, or refused when asked.
Problems name the feature by its position and name; one problem refuses the file.

GeoJSON is read by the standard library. GeoPackage and Shapefile go through
`pyogrio`, whose wheels carry their own GDAL, so no system library is needed;
without it those formats are refused with a message saying how to install it.
"""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from incity.errors import InvalidInput

GEOJSON_SUFFIXES = (".geojson", ".json")
OGR_SUFFIXES = (".gpkg", ".zip")
MAX_PROBLEMS = 20
_WGS84_NAMES = ("EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326")


@dataclass(frozen=True)
class Boundary:
    """One checked feature: its name, code and a GeoJSON (Multi)Polygon in lon/lat."""

    position: int
    name: str
    code: str
    geometry: dict[str, Any]
    repaired: str = ""


@dataclass
class _Problems:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        count = len(self.messages)
        first = self.messages[0]
        noun = "problem" if count == 1 else "problems"
        raise InvalidInput(
            "file",
            f"The boundary file has {count} {noun}, nothing was imported; first, {first}",
            problems=self.messages[:MAX_PROBLEMS],
        )


@dataclass(frozen=True)
class _RawFeature:
    position: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None


def read_boundaries(
    data: bytes,
    filename: str,
    *,
    name_field: str = "name",
    code_field: str = "",
    repair: bool = True,
) -> list[Boundary]:
    """Check a boundary file and return its features; raises InvalidInput naming the problems."""
    if not data.strip():
        raise InvalidInput("file", "The boundary file is empty.")
    suffix = PurePath(filename).suffix.lower()
    if suffix in OGR_SUFFIXES:
        features = _read_with_ogr(data, filename)
    elif suffix in GEOJSON_SUFFIXES or not suffix:
        features = _read_geojson(data)
    elif suffix == ".shp":
        raise InvalidInput(
            "file",
            "A Shapefile is several files: zip the .shp with its .shx, .dbf and .prj and "
            "upload the .zip.",
        )
    else:
        raise InvalidInput(
            "file",
            f"'{filename}' is not a boundary file incity reads: use GeoJSON (.geojson), "
            "GeoPackage (.gpkg) or a zipped Shapefile (.zip).",
        )
    return _check_features(features, name_field=name_field, code_field=code_field, repair=repair)


# --------------------------------------------------------------------------- GeoJSON


def _read_geojson(data: bytes) -> list[_RawFeature]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidInput(
            "file",
            "The file is not GeoJSON text (UTF-8). A GeoPackage must end in .gpkg, a "
            "Shapefile must be zipped and end in .zip.",
        ) from None
    except json.JSONDecodeError as problem:
        raise InvalidInput(
            "file",
            f"The file is not valid JSON: {problem.msg} at line {problem.lineno}, "
            f"column {problem.colno}.",
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise InvalidInput(
            "file", "The file is JSON but not GeoJSON: expected an object with a 'type'."
        )
    kind = document["type"]
    if kind == "Feature":
        items: Any = [document]
    elif kind == "FeatureCollection":
        items = document.get("features")
        if not isinstance(items, list):
            raise InvalidInput("file", "The FeatureCollection has no 'features' list.")
    else:
        raise InvalidInput(
            "file",
            f"The GeoJSON is a {kind[:40]}; boundaries need a FeatureCollection whose "
            "features carry names in their properties.",
        )
    if not items:
        raise InvalidInput("file", "The FeatureCollection has no features.")
    transform = _crs_transform(document.get("crs"))
    problems = _Problems()
    features = []
    for position, item in enumerate(items, start=1):
        feature = _geojson_feature(position, item, problems)
        if feature is not None and transform is not None and feature.geometry is not None:
            feature = _RawFeature(
                position,
                feature.properties,
                shapely.transform(feature.geometry, transform, interleaved=False),
            )
        if feature is not None:
            features.append(feature)
    problems.raise_if_any()
    return features


def _crs_transform(crs: Any) -> Any:
    """A coordinate transform to lon/lat for GeoJSON's old 'crs' member, or None."""
    if crs is None:
        return None
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str):
        raise InvalidInput("file", "The GeoJSON 'crs' member does not name a coordinate system.")
    if name in _WGS84_NAMES:
        return None
    return _to_lon_lat(name)


def _to_lon_lat(crs: Any) -> Any:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(crs)
    except CRSError:
        raise InvalidInput("file", f"Unknown coordinate system '{str(crs)[:80]}'.") from None
    if source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    transformer = Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)
    return lambda x, y: transformer.transform(x, y)


def _label(position: int, name: str = "") -> str:
    return f"feature {position} ('{name[:60]}')" if name else f"feature {position}"


def _geojson_feature(position: int, item: Any, problems: _Problems) -> _RawFeature | None:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        problems.add(f"{_label(position)} is not a GeoJSON Feature.")
        return None
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        problems.add(f"{_label(position)}: 'properties' is not an object.")
        return None
    name = str(properties.get("name") or "")
    geometry = item.get("geometry")
    if not isinstance(geometry, dict):
        problems.add(f"{_label(position, name)} has no geometry.")
        return _RawFeature(position, properties, None)
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        problems.add(
            f"{_label(position, name)} is a {str(kind)[:30]}; boundaries must be Polygons or "
            "MultiPolygons."
        )
        return _RawFeature(position, properties, None)
    polygons = geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [polygons]
    message = _check_polygons(polygons)
    if message:
        problems.add(f"{_label(position, name)}: {message}")
        return _RawFeature(position, properties, None)
    return _RawFeature(position, properties, shape(geometry))


def _check_polygons(polygons: Any) -> str:
    """The first structural problem of a list of polygons' coordinates, or ''."""
    if not isinstance(polygons, list) or not polygons:
        return "the geometry has no coordinates."
    for polygon_number, rings in enumerate(polygons, start=1):
        if not isinstance(rings, list) or not rings:
            return f"polygon {polygon_number} has no rings."
        for ring_number, ring in enumerate(rings, start=1):
            where = f"ring {ring_number} of polygon {polygon_number}"
            if not isinstance(ring, list) or len(ring) < 4:
                return f"{where} has fewer than 4 positions (a closed ring needs at least 4)."
            for position in ring:
                if (
                    not isinstance(position, list)
                    or len(position) < 2
                    or not all(_is_number(value) for value in position)
                ):
                    return f"{where} has a position that is not [longitude, latitude] numbers."
            if ring[0][:2] != ring[-1][:2]:
                return f"{where} is not closed: its last position must equal its first."
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# -------------------------------------------------------------- GeoPackage, Shapefile


def ogr_available() -> bool:
    try:
        import pyogrio  # noqa: F401
    except ImportError:
        return False
    return True


def _read_with_ogr(data: bytes, filename: str) -> list[_RawFeature]:
    try:
        import pyogrio.raw
        from pyogrio.errors import DataLayerError, DataSourceError
    except ImportError:
        raise InvalidInput(
            "file",
            "Reading GeoPackage and Shapefile needs the 'pyogrio' package "
            "(pip install pyogrio); convert the file to GeoJSON or install it.",
        ) from None
    if filename.lower().endswith(".zip"):
        _check_zipped_shapefile(data)
    try:
        with warnings.catch_warnings():
            # GDAL warns that an in-memory GeoPackage lacks the .gpkg extension.
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _, geometries, values = pyogrio.raw.read(io.BytesIO(data))
    except (DataSourceError, DataLayerError, ValueError) as problem:
        first_line = str(problem).splitlines()[0][:200] if str(problem) else "unreadable"
        raise InvalidInput(
            "file", f"'{filename}' could not be read as GeoPackage or Shapefile: {first_line}"
        ) from None
    if len(geometries) == 0:
        raise InvalidInput("file", "The boundary file has no features.")
    transform = _to_lon_lat(meta["crs"]) if meta.get("crs") else None
    names = list(meta["fields"])
    features = []
    for index, wkb in enumerate(geometries):
        properties = {
            name: _plain(column[index]) for name, column in zip(names, values, strict=True)
        }
        geometry = shapely.from_wkb(wkb) if wkb is not None else None
        if geometry is not None and transform is not None:
            geometry = shapely.transform(geometry, transform, interleaved=False)
        features.append(_RawFeature(index + 1, properties, geometry))
    return features


def _check_zipped_shapefile(data: bytes) -> None:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        raise InvalidInput("file", "The .zip file is damaged or not a zip archive.") from None
    suffixes = {PurePath(name).suffix.lower() for name in names}
    missing = [suffix for suffix in (".shp", ".shx", ".dbf") if suffix not in suffixes]
    if missing:
        raise InvalidInput(
            "file", "The zipped Shapefile lacks its " + ", ".join(missing) + " file(s)."
        )


def _plain(value: Any) -> Any:
    # numpy scalars and bytes from GDAL become plain Python values.
    if hasattr(value, "item"):
        return value.item()
    return value


# ------------------------------------------------------------------------ checks


def _check_features(
    features: Sequence[_RawFeature], *, name_field: str, code_field: str, repair: bool
) -> list[Boundary]:
    problems = _Problems()
    boundaries: list[Boundary] = []
    for feature in features:
        boundary = _check_feature(feature, name_field, code_field, repair, problems)
        if boundary is not None:
            boundaries.append(boundary)
    _check_unique(boundaries, problems)
    problems.raise_if_any()
    return boundaries


def _field_text(properties: dict[str, Any], field_name: str) -> str | None:
    value = properties.get(field_name)
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_feature(
    feature: _RawFeature, name_field: str, code_field: str, repair: bool, problems: _Problems
) -> Boundary | None:
    label = _label(feature.position)
    name = _field_text(feature.properties, name_field)
    if name_field not in feature.properties:
        have = ", ".join(sorted(feature.properties)[:12]) or "none"
        problems.add(
            f"{label} has no '{name_field}' property to name it (its properties: {have}); "
            "choose the name field."
        )
        return None
    if not name:
        problems.add(f"{label} has an empty '{name_field}'.")
        return None
    if len(name) > 200:
        problems.add(f"{label}: the name is longer than 200 characters.")
        return None
    label = _label(feature.position, name)
    code = ""
    if code_field:
        code = _field_text(feature.properties, code_field) or ""
        if not code:
            problems.add(f"{label} has no '{code_field}' code.")
            return None
        if len(code) > 64:
            problems.add(f"{label}: the code is longer than 64 characters.")
            return None
    geometry = feature.geometry
    if geometry is None:
        return None  # the reason was reported while reading
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        problems.add(f"{label} is a {geometry.geom_type}; boundaries must be areas.")
        return None
    message = _range_problem(geometry)
    if message:
        problems.add(f"{label}: {message}")
        return None
    repaired = ""
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        if not repair:
            problems.add(f"{label} is not a valid area: {reason}.")
            return None
        geometry = _polygonal(shapely.make_valid(geometry))
        if geometry is None:
            problems.add(f"{label} is not a valid area ({reason}) and could not be repaired.")
            return None
        repaired = f"{label}: {reason}; repaired"
    if geometry.is_empty or geometry.area == 0:
        problems.add(f"{label} encloses no area.")
        return None
    return Boundary(feature.position, name, code, to_geojson(geometry), repaired)


def _range_problem(geometry: BaseGeometry) -> str:
    coordinates = shapely.get_coordinates(geometry)
    xs, ys = coordinates[:, 0], coordinates[:, 1]
    if (abs(xs) <= 180).all() and (abs(ys) <= 90).all():
        return ""
    if (abs(xs) > 1000).any() or (abs(ys) > 1000).any():
        return (
            "the coordinates look like metres in a projected system; convert the file to "
            "WGS84 longitude/latitude (EPSG:4326), or give its coordinate system."
        )
    if (abs(ys) <= 180).all() and (abs(xs) <= 90).all():
        return (
            "a latitude is outside -90 to 90, but the numbers would fit as longitude, "
            "latitude: the coordinates look swapped (GeoJSON puts longitude first)."
        )
    return "a coordinate is outside longitude -180 to 180 or latitude -90 to 90."


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    parts = [
        part
        for part in shapely.get_parts(geometry)
        if part.geom_type in ("Polygon", "MultiPolygon") and part.area > 0
    ]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.is_valid and not merged.is_empty else None


def _check_unique(boundaries: Iterable[Boundary], problems: _Problems) -> None:
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    for boundary in boundaries:
        key = boundary.name.casefold()
        if key in names:
            problems.add(
                f"{_label(boundary.position, boundary.name)} has the same name as feature "
                f"{names[key]}; names must differ."
            )
        names.setdefault(key, boundary.position)
        if boundary.code and boundary.code in codes:
            problems.add(
                f"{_label(boundary.position, boundary.name)} has the same code "
                f"'{boundary.code}' as feature {codes[boundary.code]}."
            )
        if boundary.code:
            codes.setdefault(boundary.code, boundary.position)


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(shapely.to_geojson(geometry))
    return result


def looks_swapped(boundaries: Sequence[Boundary], reference: BaseGeometry) -> bool:
    """Whether boundaries lie far from `reference` (an organisation's existing areas) but
    would overlap it with longitude and latitude exchanged."""
    geometries = [shape(boundary.geometry) for boundary in boundaries]
    if not geometries:
        return False
    extent = shapely.union_all(geometries).envelope
    near = reference.envelope.buffer(0.5)
    if extent.intersects(near):
        return False
    exchanged = shapely.transform(extent, lambda xy: xy[:, ::-1])
    return bool(exchanged.intersects(near))
