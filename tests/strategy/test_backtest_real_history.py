"""A user's strategy class, loaded by import path with the config file's parameters, backtested
on real B3 options history imported from a NEG file: the selection, the store and the trace."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from hosts.cli import main
from tests.b3.test_real_files import raw_rows, real_data
from tradingcore.application.codec import decode

SYMBOLS = ("PETRL80", "VALEL14", "VIVTL91")  # VIVTL91 moves more than 20% in the session

USER_STRATEGY = '''
"""A user's strategy outside tradingcore: long after `up` rising prints, short after `down`."""

from tradingcore.domain.values import price_to_units
from tradingcore.strategy.policy import TargetStrategy


class Streak(TargetStrategy):
    def __init__(self, up: int = 3, down: int = 3, quantity: int = 1) -> None:
        super().__init__()
        self.strategy_id = f"streak-{up}-{down}"
        self.up, self.down, self.quantity = up, down, quantity
        self._last = {}
        self._run = {}

    def target_after(self, trade):
        units = price_to_units(trade.price)
        last = self._last.get(trade.symbol)
        self._last[trade.symbol] = units
        if last is None or units == last:
            return None
        run = self._run.get(trade.symbol, 0)
        run = max(run, 0) + 1 if units > last else min(run, 0) - 1
        self._run[trade.symbol] = run
        if run >= self.up:
            return self.quantity
        if -run >= self.down:
            return -self.quantity
        return None
'''


def test_a_user_strategy_backtests_imported_b3_history_by_symbol_and_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    neg = real_data() / "NEG_OPCOES_20151126.zip"
    store = f"sqlite:///{tmp_path / 'b3.sqlite'}"
    assert main(["import", str(neg), "--store", store, "--log-dir", str(tmp_path / "logs")]) == 0
    (tmp_path / "user_streak.py").write_text(textwrap.dedent(USER_STRATEGY))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "tradingcore.toml"
    config.write_text(
        '[strategy]\nimport_path = "user_streak:Streak"\nparams = { up = 1, down = 2 }\n'
    )
    output = tmp_path / "backtest"
    code = main(
        [
            "backtest",
            "--config",
            str(config),
            "--store",
            store,
            "--symbols",
            ",".join(SYMBOLS),
            "--from",
            "2015-11-26",
            "--to",
            "2015-11-26",
            "--output",
            str(output),
            "--quiet",
            "--no-png",
        ]
    )
    assert code == 0
    report = json.loads((output / "report.json").read_text())
    expected = sum(
        1 for row in raw_rows(neg) if row[1].strip() in SYMBOLS and row[12].strip() != "2"
    )
    assert report["run"]["symbols"] == list(SYMBOLS)
    assert report["run"]["strategies"] == ["streak-1-2"]
    assert report["run"]["trades"] == expected
    assert report["run"]["orders"] > 10 and report["run"]["fills"] > 10
    traded = {row["symbol"] for row in report["breakdown"] if row["strategy"] == "streak-1-2"}
    assert traded == set(SYMBOLS)

    with sqlite3.connect(output / "events.sqlite") as connection:
        submitted = connection.execute(
            "SELECT state FROM stored_events WHERE topic LIKE '%OrderSubmitted'"
        ).fetchall()
    assert len(submitted) == report["run"]["orders"]
    assert {decode(state)["strategy_id"] for (state,) in submitted} == {"streak-1-2"}
    assert main(["verify", "--store", f"sqlite:///{output / 'events.sqlite'}"]) == 0
