"""Chart geometry: bars scale to the largest value, the month line labels stay readable."""
from __future__ import annotations

from volunteer_app.reports import charts
from volunteer_app.reports.queries import Tally


def rows(values, labels=None):
    labels = labels or [f"r{i}" for i in range(len(values))]
    return [Tally(label, label, attendances=value) for label, value in zip(labels, values)]


def test_bars_scale_to_the_largest_value():
    chart = charts.bars(rows([10, 5, 0]), "attendances")
    assert [bar.width for bar in chart["bars"]] == [charts.BAR_MAX, charts.BAR_MAX / 2, 0]
    assert [bar.y for bar in chart["bars"]] == [0, charts.BAR_ROW, 2 * charts.BAR_ROW]
    assert chart["values"] == [10, 5, 0]


def test_bars_of_nothing():
    assert charts.bars(rows([0, 0]), "attendances")["bars"][0].width == 0
    assert charts.bars([], "attendances")["bars"] == []


def test_month_line_has_readable_labels():
    months = [f"2026-{m:02d}" for m in range(1, 13)] + ["2027-01"]
    values = [5] * 13
    values[2] = 9
    chart = charts.line(rows(values, months), "attendances")
    points = chart["points"]
    assert points[0].x == charts.LINE_LEFT and points[-1].x == charts.LINE_RIGHT
    assert points[2].y == charts.LINE_TOP  # the peak touches the top
    assert [p.tick_label for p in points[:3]] == ["2026-1", "2", "3"]
    assert [p.show_value for p in points].count(True) == 1 and points[2].show_value  # only the peak's value
    assert all(p.tick for p in points[::2])


def test_a_few_months_show_every_value_and_one_month_sits_in_the_middle():
    assert all(p.show_value for p in charts.line(rows([1, 2, 3], ["2026-01", "2026-02", "2026-03"]), "attendances")["points"])
    single = charts.line(rows([4], ["2026-03"]), "attendances")["points"][0]
    assert single.x == (charts.LINE_LEFT + charts.LINE_RIGHT) / 2
