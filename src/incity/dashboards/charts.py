"""Accessible charts: one `Chart` (the table behind it) drawn as inline SVG, PNG, SVG or CSV.

A chart is its table first. The inline SVG carries a `<title>` and a `<desc>`
that says every value in words, so a screen reader gets the same as the eye;
the page puts the table beside it. Colours are the Okabe-Ito palette, which
stays distinguishable with the common kinds of colour blindness, and each
series also differs in its legend text, so colour never carries meaning alone.
Downloads are drawn by matplotlib on the server (no script in the browser).
A suppressed value is drawn as no bar, with its text ("suppressed (fewer than
10)") in place of the number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion,
# reddish purple, sky blue, yellow; black last for text.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
TEXT_COLOUR = "#000000"

# Inline SVG geometry (pixels): a label column, then the bars.
_LABEL_WIDTH = 230
_BAR_AREA = 360
_VALUE_WIDTH = 190
_BAR_HEIGHT = 16
_GROUP_GAP = 10
_TOP = 8


@dataclass(frozen=True)
class Value:
    """One figure: its number (None when suppressed or missing) and what a person reads."""

    number: float | None
    text: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    category_header: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str  # what the numbers are: "people", "score (0-100)", "percent"
    notes: tuple[str, ...] = ()
    maximum: float | None = None  # the axis end when the scale is fixed (scores: 100)

    @property
    def has_intervals(self) -> bool:
        return any(v.low is not None for s in self.series for v in s.values)

    def description(self) -> str:
        """The text alternative: every value in words, in table order."""
        parts = []
        for index, category in enumerate(self.categories):
            values = [
                f"{series.name}: {series.values[index].text}"
                if len(self.series) > 1
                else series.values[index].text
                for series in self.series
            ]
            parts.append(f"{category}: {'; '.join(values)}")
        body = ". ".join(parts) if parts else "No data."
        return f"{self.title} ({self.unit}). {body}."

    def header(self) -> list[str]:
        columns = [self.category_header]
        for series in self.series:
            columns.append(series.name if len(self.series) > 1 else self.unit)
            if self.has_intervals:
                prefix = f"{series.name}: " if len(self.series) > 1 else ""
                columns += [f"{prefix}95% interval low", f"{prefix}95% interval high"]
        return columns

    def rows(self) -> list[list[str]]:
        """The table view: what a person reads in each cell."""
        found = []
        for index, category in enumerate(self.categories):
            row = [category]
            for series in self.series:
                value = series.values[index]
                row.append(value.text)
                if self.has_intervals:
                    row += [_number(value.low), _number(value.high)]
            found.append(row)
        return found

    def csv(self) -> str:
        """The table behind the chart: numbers as numbers, suppressed cells as their reason."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header())
        for index, category in enumerate(self.categories):
            row = [category]
            for series in self.series:
                value = series.values[index]
                row.append(_number(value.number) if value.number is not None else value.text)
                if self.has_intervals:
                    row += [_number(value.low), _number(value.high)]
            writer.writerow(row)
        for note in self.notes:
            writer.writerow([f"Note: {note}"])
        return out.getvalue()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _scale(chart: Chart) -> float:
    if chart.maximum is not None:
        return chart.maximum
    tops = [max(v.number or 0.0, v.high or 0.0) for series in chart.series for v in series.values]
    return max([*tops, 1.0])


def inline_svg(chart: Chart) -> str:
    """The chart as an inline SVG with a text alternative (role img, title and desc)."""
    scale = _scale(chart)
    per_group = _BAR_HEIGHT * len(chart.series) + _GROUP_GAP
    legend = 22 if len(chart.series) > 1 else 0
    height = _TOP + legend + per_group * max(len(chart.categories), 1)
    width = _LABEL_WIDTH + _BAR_AREA + _VALUE_WIDTH
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{title_id} {desc_id}" data-chart="{escape(chart.id)}">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description())}</desc>',
    ]
    if legend:
        x = _LABEL_WIDTH
        for number, series in enumerate(chart.series):
            colour = OKABE_ITO[number % len(OKABE_ITO)]
            parts.append(
                f'<rect x="{x}" y="{_TOP}" width="12" height="12" fill="{colour}"/>'
                f'<text x="{x + 16}" y="{_TOP + 11}" font-size="12">{escape(series.name)}</text>'
            )
            x += 24 + 7 * len(series.name)
    for index, category in enumerate(chart.categories):
        top = _TOP + legend + index * per_group
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{top + _BAR_HEIGHT - 4}" font-size="12" '
            f'text-anchor="end">{escape(_short(category, 34))}</text>'
        )
        for number, series in enumerate(chart.series):
            value = series.values[index]
            y = top + number * _BAR_HEIGHT
            colour = OKABE_ITO[number % len(OKABE_ITO)]
            length = _BAR_AREA * (value.number or 0.0) / scale if value.number else 0.0
            parts.append(
                f'<rect x="{_LABEL_WIDTH}" y="{y + 2}" width="{length:.1f}" '
                f'height="{_BAR_HEIGHT - 4}" fill="{colour}"/>'
            )
            if value.low is not None and value.high is not None:
                x1 = _LABEL_WIDTH + _BAR_AREA * max(value.low, 0.0) / scale
                x2 = _LABEL_WIDTH + _BAR_AREA * min(value.high, scale) / scale
                middle = y + _BAR_HEIGHT / 2
                parts.append(
                    f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{middle}" y2="{middle}" '
                    f'stroke="{TEXT_COLOUR}" stroke-width="1.5"/>'
                )
            parts.append(
                f'<text x="{_LABEL_WIDTH + _BAR_AREA + 6}" y="{y + _BAR_HEIGHT - 4}" '
                f'font-size="11">{escape(value.text)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def drawn(chart: Chart, file_format: str) -> bytes:
    """The chart drawn by matplotlib as PNG or SVG (for download)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = max(len(chart.categories), 1)
    figure = Figure(figsize=(8, 1.2 + 0.32 * rows * len(chart.series)), dpi=100)
    axes = figure.add_subplot()
    bar = 0.8 / max(len(chart.series), 1)
    positions = list(range(len(chart.categories)))
    for number, series in enumerate(chart.series):
        offsets = [p + number * bar for p in positions]
        numbers = [v.number or 0.0 for v in series.values]
        errors = None
        if chart.has_intervals:
            errors = [
                [
                    max((v.number or 0.0) - (v.low or 0.0), 0.0) if v.low is not None else 0.0
                    for v in series.values
                ],
                [
                    max((v.high or 0.0) - (v.number or 0.0), 0.0) if v.high is not None else 0.0
                    for v in series.values
                ],
            ]
        axes.barh(
            offsets,
            numbers,
            height=bar,
            color=OKABE_ITO[number % len(OKABE_ITO)],
            label=series.name,
            xerr=errors,
            ecolor=TEXT_COLOUR,
        )
        for offset, value in zip(offsets, series.values, strict=True):
            if value.number is None:
                axes.text(0, offset, " " + value.text, va="center", fontsize=8)
    axes.set_yticks([p + bar * (len(chart.series) - 1) / 2 for p in positions])
    axes.set_yticklabels([_short(c, 40) for c in chart.categories], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(chart.unit)
    if chart.maximum is not None:
        axes.set_xlim(0, chart.maximum)
    axes.set_title(chart.title, fontsize=10)
    if len(chart.series) > 1:
        axes.legend(fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    metadata = {"Title": chart.title}
    figure.savefig(out, format=file_format, metadata=metadata)
    return out.getvalue()
