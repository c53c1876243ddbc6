"""Geometry of the dashboard's server-rendered SVG charts (the templates only draw it).

Server-side SVG rather than a canvas library: the charts exist without JavaScript, survive htmx
swaps without re-initialising, print sharply, and can be checked in tests. Coordinates are in
viewBox units (320 wide, about the CSS pixel width of a phone's content column).
"""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 320
BAR_ROW = 30
BAR_MAX = 250  # leaves room for the value to the right of the longest bar
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 14, 306, 20, 130
MAX_TICKS = 12
MAX_VALUES = 6  # above this many points only the highest value is written, so labels never overlap


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float
    y: int
    width: float


@dataclass(frozen=True)
class Point:
    label: str
    value: int | float
    x: float
    y: float
    tick: bool  # label this point on the axis
    show_value: bool  # write the value above the point

    @property
    def tick_label(self) -> str:
        """'YYYY-MM' → the month number; January also says the year."""
        if len(self.label) == 7 and self.label[4] == "-":
            year, month = self.label.split("-")
            return f"{year}-{int(month)}" if month == "01" else str(int(month))
        return self.label


def bars(rows, metric: str) -> dict:
    """Horizontal bars, one per row, scaled to the largest value."""
    values = [getattr(row, metric) for row in rows]
    peak = max(values, default=0)
    items = [Bar(row.label, value, index * BAR_ROW, round(value / peak * BAR_MAX, 1) if peak else 0.0)
             for index, (row, value) in enumerate(zip(rows, values))]
    return {"bars": items, "height": len(items) * BAR_ROW + 4, "width": WIDTH, "values": values}


def line(rows, metric: str) -> dict:
    """A line through one point per row (months), with at most MAX_TICKS axis labels."""
    values = [getattr(row, metric) for row in rows]
    peak = max(values, default=0)
    count = len(values)
    step = (LINE_RIGHT - LINE_LEFT) / (count - 1) if count > 1 else 0
    every = max(1, -(-count // MAX_TICKS))
    points = []
    for index, (row, value) in enumerate(zip(rows, values)):
        x = LINE_LEFT + index * step if count > 1 else (LINE_LEFT + LINE_RIGHT) / 2
        y = LINE_BOTTOM - (value / peak * (LINE_BOTTOM - LINE_TOP) if peak else 0)
        points.append(Point(row.label, value, round(x, 1), round(y, 1), index % every == 0 or index == count - 1,
                            count <= MAX_VALUES or (value == peak and peak > 0 and values.index(peak) == index)))
    return {"points": points, "polyline": " ".join(f"{p.x},{p.y}" for p in points), "values": values,
            "width": WIDTH, "height": LINE_BOTTOM + 18, "axis_y": LINE_BOTTOM, "left": LINE_LEFT,
            "right": LINE_RIGHT}
