"""The report's charts label counts as counts and amounts with cents."""

from __future__ import annotations

from adapters.report.html import bar_chart


def test_a_count_chart_labels_its_axis_and_bars_without_decimals() -> None:
    svg = bar_chart(["2015-11-26"], [191.0], "Fills per day", "#8250df", decimals=0)
    assert ">191</text>" in svg and "2015-11-26: 191</title>" in svg
    assert "191.00" not in svg


def test_an_amount_chart_keeps_cents() -> None:
    svg = bar_chart(["2015-11-26"], [-0.42], "Daily net P&L (R$)", "#1a7f37")
    assert ">-0.42</text>" in svg and "2015-11-26: -0.42</title>" in svg
