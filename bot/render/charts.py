"""Charts for the owner as PNG images (matplotlib, Agg): pure drawing from plain figures.

The Agg canvas is used directly (no pyplot, no backend switch): no global state, so charts
for several owners may be drawn at once.

Each function returns the PNG together with the numbers it drew, so a test (or a caption) reads
the data behind a chart instead of its pixels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 8.0, 4.5, 100  # 800 × 450 pixels: sharp in a chat, small to send
_COLORS = ("#2f6db5", "#e07b39", "#4a9d5b", "#b5443b", "#7a5aa6", "#8c8c8c")


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    name: str  # file name, e.g. growth.png
    title: str
    labels: tuple[str, ...]  # the x axis (or the bars)
    series: tuple[Series, ...]
    png: bytes


def _figure(title: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=13)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return figure, axes


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _thin_ticks(axes: Axes, labels: Sequence[str]) -> None:
    """Every label when few, else every other one: dates must stay readable."""
    step = 1 if len(labels) <= 13 else 2
    positions = list(range(0, len(labels), step))
    axes.set_xticks(positions, [labels[i] for i in positions], rotation=45, ha="right")


def line_chart(name: str, title: str, labels: Sequence[str], series: Sequence[Series]) -> Chart:
    figure, axes = _figure(title)
    for color, line in zip(_COLORS, series, strict=False):
        axes.plot(range(len(labels)), line.values, marker="o", color=color, label=line.label)
    _thin_ticks(axes, labels)
    if len(series) > 1:
        axes.legend(frameon=False)
    axes.set_ylim(bottom=0)
    return Chart(name, title, tuple(labels), tuple(series), _png(figure))


def bar_chart(
    name: str, title: str, labels: Sequence[str], series: Sequence[Series], *, stacked: bool = False
) -> Chart:
    """Grouped bars (side by side), or stacked ones."""
    figure, axes = _figure(title)
    count = max(len(series), 1)
    width = 0.8 if stacked else 0.8 / count
    bottom = [0.0] * len(labels)
    for index, (color, bars) in enumerate(zip(_COLORS, series, strict=False)):
        if stacked:
            axes.bar(
                range(len(labels)), bars.values, 0.8, bottom=bottom, color=color, label=bars.label
            )
            bottom = [b + v for b, v in zip(bottom, bars.values, strict=True)]
        else:
            offsets = [i - 0.4 + width * (index + 0.5) for i in range(len(labels))]
            axes.bar(offsets, bars.values, width, color=color, label=bars.label)
    _thin_ticks(axes, labels)
    if len(series) > 1:
        axes.legend(frameon=False)
    return Chart(name, title, tuple(labels), tuple(series), _png(figure))


def horizontal_bars(name: str, title: str, labels: Sequence[str], values: Sequence[float]) -> Chart:
    """A funnel or a segment breakdown: one bar per step, the value written at its end."""
    figure, axes = _figure(title)
    positions = list(range(len(labels)))[::-1]  # the first step on top
    axes.barh(positions, values, color=[_COLORS[i % len(_COLORS)] for i in range(len(labels))])
    axes.set_yticks(positions, list(labels))
    axes.grid(axis="y", alpha=0)
    peak = max(values, default=0) or 1
    for position, value in zip(positions, values, strict=True):
        axes.text(value + peak * 0.01, position, f"{value:g}", va="center")
    axes.set_xlim(0, peak * 1.15)
    return Chart(name, title, tuple(labels), (Series(title, tuple(values)),), _png(figure))
