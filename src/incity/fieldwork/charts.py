"""Server-rendered charts: plain numbers for an SVG the template draws, no JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from incity.fieldwork.queries import LabelCount

CHART_HEIGHT = 120
BAR_WIDTH = 10
BAR_GAP = 2


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    peak: int

    @property
    def first_label(self) -> str:
        return self.bars[0].label if self.bars else ""

    @property
    def last_label(self) -> str:
        return self.bars[-1].label if self.bars else ""


def bar_chart(counts: list[LabelCount]) -> BarChart:
    """Bars scaled to the highest count; a day with none gets no bar, only its slot."""
    peak = max((item.count for item in counts), default=0)
    bars = []
    for position, item in enumerate(counts):
        height = round(CHART_HEIGHT * item.count / peak) if peak else 0
        # A day with one submission among hundreds must still show.
        if item.count and height < 1:
            height = 1
        bars.append(
            Bar(
                label=item.label,
                count=item.count,
                x=position * (BAR_WIDTH + BAR_GAP),
                y=CHART_HEIGHT - height,
                height=height,
            )
        )
    width = max(len(counts) * (BAR_WIDTH + BAR_GAP), BAR_WIDTH)
    return BarChart(bars=bars, width=width, height=CHART_HEIGHT, peak=peak)
