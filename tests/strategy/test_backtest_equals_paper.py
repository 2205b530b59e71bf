"""A backtest of a store equals the paper run that made it: same fills, prices and fees."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from adapters.eventstore import open_store
from hosts.cli import main
from tradingcore.domain.order import OrderFilled
from tradingcore.ports.clock import ManualClock


def fills(path: Path) -> list[tuple[int, Decimal, int, str, str]]:
    app = open_store(f"sqlite:///{path}", ManualClock())
    try:
        found = []
        for item in app.recorder.select_notifications(start=1, limit=1_000_000):
            if item.topic.endswith(":OrderFilled"):
                event = app.mapper.to_domain_event(item)
                assert isinstance(event, OrderFilled)
                found.append(
                    (event.trade_id, event.price, event.quantity, str(event.side), str(event.fees))
                )
        return sorted(found)
    finally:
        app.close()


def test_position_policy_backtest_of_the_demo_store_gives_the_demo_paper_fills(
    tmp_path: Path,
) -> None:
    assert main(["demo", "--data-dir", str(tmp_path / "demo")]) == 0
    demo_store = tmp_path / "demo" / "events.sqlite"
    code = main(
        [
            "backtest",
            "--store",
            f"sqlite:///{demo_store}",
            "--strategy",
            "position-policy",
            "--param",
            "min_confidence=0.0",
            "--output",
            str(tmp_path / "bt"),
            "--quiet",
            "--no-png",
        ]
    )
    assert code == 0
    paper = fills(demo_store)
    assert len(paper) > 50
    assert fills(tmp_path / "bt" / "events.sqlite") == paper
