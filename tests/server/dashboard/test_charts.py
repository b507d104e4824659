"""Chart geometry for the inline SVG charts (no rendering needed)."""

from __future__ import annotations

from datetime import date

import pytest

from lakegate_server.dashboard.charts import bar_chart, histogram, nice_ceiling, per_day_chart


@pytest.mark.parametrize(
    ("value", "nice"), [(0, 0), (0.3, 0.5), (1, 1), (1.2, 2), (2.2, 2.5), (7, 10), (109_300, 200_000)]
)
def test_axis_ends_are_round(value, nice):
    assert nice_ceiling(value) == pytest.approx(nice)


def test_bars_stack_in_series_order_and_share_one_scale():
    chart = bar_chart(
        [("a", {"ok": 2, "bad": 2}), ("b", {"ok": 1})], title="t", series=["ok", "bad"], width=200, height=120
    )
    ok_a, bad_a, ok_b = chart.rects
    assert (ok_a.series, bad_a.series, ok_b.series) == ("ok", "bad", "ok")
    assert ok_a.height == pytest.approx(bad_a.height)
    assert bad_a.y + bad_a.height == pytest.approx(ok_a.y), "bad sits on top of ok"
    assert ok_b.height == pytest.approx(ok_a.height / 2)
    assert ok_a.y + ok_a.height == pytest.approx(chart.zero)
    assert [t.label for t in chart.y_ticks] == ["0", "5"]
    assert ok_a.title == "a: 2 ok"


def test_negative_values_hang_below_zero():
    chart = bar_chart([("a", {"saved": 100}), ("b", {"saved": -50})], title="t", series=["saved"])
    up, down = chart.rects
    assert not up.negative
    assert down.negative
    assert down.y == pytest.approx(chart.zero)
    assert up.y + up.height == pytest.approx(chart.zero)
    assert [t.label for t in chart.y_ticks] == ["-50", "0", "100"]


def test_byte_axes_end_on_round_binary_units():
    chart = bar_chart([("a", {"saved": 109.3 * 1024})], title="t", series=["saved"], binary=True)
    assert chart.y_ticks[-1].label == "204800"


def test_empty_charts_have_no_rects():
    assert bar_chart([("a", {}), ("b", {"x": 0})], title="t", series=["x"]).empty


def test_per_day_charts_label_the_last_day():
    days = [(date(2026, 11, d), {"n": 1.0}) for d in range(1, 15)]
    chart = per_day_chart(days, title="t", series=["n"])
    assert chart.x_ticks[-1].label == "Nov 14"
    assert len(chart.rects) == 14


def test_histograms_come_from_the_stored_sketch():
    chart = histogram([0, 1, 2], [3, 1], title="Distribution of x")
    assert chart is not None
    assert [r.title for r in chart.rects] == ["0 to 1: 3 rows", "1 to 2: 1 row"]
    assert histogram([0, 1], [0], title="t") is None
    assert histogram([], [], title="t") is None
    assert histogram([0, 1], [1, 2], title="t") is None, "edges must be one more than counts"
