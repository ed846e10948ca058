"""Trend charts as server-rendered SVG: bars with axis labels and a text alternative.

No charting library and no image from elsewhere: the SVG is part of the page, styled by the
console's stylesheet, and each chart carries a ``<title>`` and a table-like ``<desc>`` so a
screen reader gets the numbers too. Values are escaped by Jinja where the SVG is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 560
HEIGHT = 180
PAD_LEFT = 48
PAD_BOTTOM = 28
PAD_TOP = 12


@dataclass(frozen=True)
class Series:
    title: str
    unit: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // step) + 1) * step)


def bar_chart(series: Series) -> str:
    """One bar per label; a missing value (None) is drawn as a gap labelled n/a."""
    present = [v for v in series.values if v is not None]
    top = _nice_max(max(present) if present else 0.0)
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    plot_w = WIDTH - PAD_LEFT - 8
    slot = plot_w / max(len(series.values), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="t-{_id(series.title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{_id(series.title)}">{escape(series.title)}</title>',
        "<desc>"
        + escape(
            "; ".join(
                f"{label}: {'n/a' if v is None else _fmt(v)} {series.unit}"
                for label, v in zip(series.labels, series.values, strict=True)
            )
        )
        + "</desc>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>',
        f'<line class="axis" x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - 8}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>',
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end">'
        f"{_fmt(top)}</text>",
        f'<text class="tick" x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_BOTTOM}" '
        'text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(zip(series.labels, series.values, strict=True)):
        x = PAD_LEFT + index * slot + slot * 0.15
        if value is not None:
            h = plot_h * (value / top)
            y = HEIGHT - PAD_BOTTOM - h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}"><title>{escape(label)}: {_fmt(value)} '
                f"{escape(series.unit)}</title></rect>"
            )
        if index % max(len(series.labels) // 6, 1) == 0:
            parts.append(
                f'<text class="tick" x="{x + slot * 0.35:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"


def _id(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())
