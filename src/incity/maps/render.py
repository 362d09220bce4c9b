"""Static map images (PNG, SVG) of a published layer, drawn by matplotlib without a browser.

Colours are colour-blind safe: viridis for counts, cividis for the safe/unsafe balance,
Okabe-Ito vermillion and blue for hot and cold cells. Every image carries the
disclosure note, and a "synthetic data" label when the data are synthetic.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any, Literal

import matplotlib.cm
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.patches import Polygon as PolygonPatch
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from incity.places.geometry import ProjectArea

ImageFormat = Literal["png", "svg"]
CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
HOT = "#D55E00"  # Okabe-Ito vermillion
COLD = "#0072B2"  # Okabe-Ito blue
NOT_SIGNIFICANT = "#DDDDDD"


def render_layer(
    layer: dict[str, Any],
    *,
    image_format: ImageFormat,
    area: ProjectArea | None,
    measure: str = "value",
    title: str = "",
) -> bytes:
    figure = Figure(figsize=(8, 8.6), dpi=100)
    axes = figure.add_axes((0.04, 0.17, 0.78, 0.74))
    axes.set_aspect("equal")
    axes.set_axis_off()
    features = layer["features"]
    if layer["layer"]["kind"] == "hotspots":
        _draw_hotspots(figure, axes, features)
    else:
        _draw_values(figure, axes, features, measure)
    if area is not None:
        for polygon in _polygons(area.union):
            axes.plot(*polygon.exterior.xy, color="#222222", linewidth=1.2)
    axes.autoscale_view()
    info = layer["layer"]
    figure.suptitle(title or _title(info, measure), fontsize=13, x=0.04, ha="left", y=0.97)
    note = layer.get("disclosure", {}).get("note", "")
    figure.text(0.04, 0.02, textwrap.fill(note, 110), fontsize=7.5, va="bottom")
    if info.get("is_synthetic"):
        figure.text(
            0.96,
            0.95,
            "SYNTHETIC DATA",
            fontsize=12,
            weight="bold",
            color="white",
            ha="right",
            bbox={"facecolor": "#6a3d9a", "edgecolor": "none", "pad": 4},
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, metadata=_metadata(image_format))
    return buffer.getvalue()


def _metadata(image_format: ImageFormat) -> dict[str, Any]:
    # No creation date in the file, so the same layer gives the same bytes.
    return {"Date": None} if image_format == "svg" else {}


def _title(info: dict[str, Any], measure: str) -> str:
    what = (
        "balance safe vs unsafe" if measure == "balance" else (info.get("category") or "all marks")
    )
    filters = [f"time: {info['time']}"] if info.get("time") else []
    filters += [f"group: {group}" for group in info.get("group", [])]
    if info.get("since") or info.get("until"):
        filters.append(f"received {info.get('since') or '…'} to {info.get('until') or '…'}")
    suffix = f" ({'; '.join(filters)})" if filters else ""
    return f"{info['question']}: {info['kind']}, {what}{suffix}"


def _polygons(geometry: BaseGeometry) -> list[Any]:
    if geometry.geom_type == "Polygon":
        return [geometry]
    return [part for part in getattr(geometry, "geoms", []) if part.geom_type == "Polygon"]


def _patches(axes: Any, feature: dict[str, Any], colour: str) -> None:
    for polygon in _polygons(shape(feature["geometry"])):
        axes.add_patch(
            PolygonPatch(
                list(polygon.exterior.coords),
                closed=True,
                facecolor=colour,
                edgecolor="white",
                linewidth=0.4,
            )
        )


def _draw_values(figure: Figure, axes: Any, features: list[dict[str, Any]], measure: str) -> None:
    balance = measure == "balance"
    colours = colormaps["cividis" if balance else "viridis"]
    values = [f["properties"].get(measure) for f in features]
    shown = [v for v in values if v is not None]
    norm = Normalize(-1.0, 1.0) if balance else Normalize(0.0, max(shown, default=1) or 1)
    for feature, value in zip(features, values, strict=True):
        colour = NOT_SIGNIFICANT if value is None else colours(norm(value))
        _patches(axes, feature, colour)
    bar_axes = figure.add_axes((0.86, 0.25, 0.03, 0.55))
    mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=colours)
    bar = figure.colorbar(mappable, cax=bar_axes)
    bar.set_label("(safe - unsafe) / (safe + unsafe)" if balance else "marks per cell")
    if any(v is None for v in values):
        axes.legend(
            handles=[Patch(facecolor=NOT_SIGNIFICANT, label="count hidden (small)")],
            loc="lower left",
            fontsize=8,
        )


def _draw_hotspots(figure: Figure, axes: Any, features: list[dict[str, Any]]) -> None:
    colours = {"hot": HOT, "cold": COLD}
    for feature in features:
        _patches(axes, feature, colours.get(feature["properties"]["hotspot"], NOT_SIGNIFICANT))
    axes.legend(
        handles=[
            Patch(facecolor=HOT, label="hot spot (significant)"),
            Patch(facecolor=COLD, label="cold spot (significant)"),
            Patch(facecolor=NOT_SIGNIFICANT, label="not significant"),
        ],
        loc="lower left",
        fontsize=8,
    )
