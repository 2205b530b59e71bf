"""`tradingcore backtest --strategy`: a store of its own, a reproducible report, clear errors."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from hosts.cli import main

ARGS = ["backtest", "--synthetic", "3000", "--strategy", "ma-cross", "--param", "fast=5"]


def run(tmp_path: Path, name: str, *extra: str) -> dict[str, object]:
    output = tmp_path / name
    code = main(
        [
            *ARGS,
            "--param",
            "slow=30",
            "--output",
            str(output),
            "--quiet",
            "--no-png",
            *extra,
        ]
    )
    assert code == 0
    return json.loads((output / "report.json").read_text())  # type: ignore[no-any-return]


def events(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()


def test_the_same_inputs_give_byte_identical_stores_and_the_same_report_hash(
    tmp_path: Path,
) -> None:
    first = run(tmp_path, "a")
    second = run(tmp_path, "b")
    assert first["report_sha256"] == second["report_sha256"]
    assert events(tmp_path / "a" / "events.sqlite") == events(tmp_path / "b" / "events.sqlite")
    run_facts = first["run"]
    assert isinstance(run_facts, dict) and run_facts["orders"] > 0 and run_facts["fills"] > 0


def test_the_event_path_gives_the_same_report_as_the_columnar_path(tmp_path: Path) -> None:
    columnar = run(tmp_path, "a")
    events_path = run(tmp_path, "b", "--event-path")
    assert columnar["summary"] == events_path["summary"]
    assert events(tmp_path / "a" / "events.sqlite") == events(tmp_path / "b" / "events.sqlite")


def test_a_config_file_names_the_strategy_and_its_parameters(tmp_path: Path) -> None:
    config = tmp_path / "tradingcore.toml"
    config.write_text(
        '[strategy]\nimport_path = "ma-cross"\nparams = { fast = 5, slow = 30 }\n'
        # the backtest's own defaults, said in the file: the same run as without it
        "[risk]\nduplicate_window_seconds = 0\nmax_orders_per_window = 1000\n"
        'trading_hours = "always"\n'
    )
    output = tmp_path / "c"
    code = main(
        [
            "backtest",
            "--config",
            str(config),
            "--synthetic",
            "3000",
            "--output",
            str(output),
            "--quiet",
            "--no-png",
        ]
    )
    assert code == 0
    report = json.loads((output / "report.json").read_text())
    assert report["run"]["strategies"] == ["ma-cross-5-30"]
    assert report["report_sha256"] == run(tmp_path, "d")["report_sha256"]


def test_denied_orders_are_counted_by_reason_in_the_summary_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run with many denials said only how many ('213 orders (51 denied)'), not why."""
    config = tmp_path / "tradingcore.toml"
    config.write_text(
        '[strategy]\nimport_path = "ma-cross"\nparams = { fast = 5, slow = 30 }\n'
        # ma-cross flips with orders of 2 (long 1 to short 1): each is above this limit
        "[risk]\nduplicate_window_seconds = 0\nmax_orders_per_window = 1000\n"
        'trading_hours = "always"\nmax_order_quantity = 1\n'
    )
    output = tmp_path / "e"
    args = ["backtest", "--config", str(config), "--synthetic", "3000", "--output", str(output)]
    assert main([*args, "--quiet", "--no-png"]) == 0
    printed = capsys.readouterr().out
    denied = json.loads((output / "report.json").read_text())["run"]["orders_denied"]

    assert set(denied) == {"MAX_ORDER_QUANTITY"} and denied["MAX_ORDER_QUANTITY"] > 0
    assert f"({denied['MAX_ORDER_QUANTITY']} denied: " in printed
    assert f"{denied['MAX_ORDER_QUANTITY']} MAX_ORDER_QUANTITY)" in printed


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("nowhere.module:Thing", "cannot import strategy module 'nowhere.module'"),
        ("tradingcore.strategy.examples:Nothing", "no class 'Nothing'"),
        ("tradingcore.domain.values:Symbol", "cannot build strategy"),
        ("tradingcore.strategy.api:SendOrder", "cannot build strategy"),
        ("ma-cross-typo", "invalid strategy 'ma-cross-typo'"),
    ],
)
def test_a_bad_strategy_exits_2_with_a_one_line_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], strategy: str, message: str
) -> None:
    code = main(
        [
            "backtest",
            "--synthetic",
            "100",
            "--strategy",
            strategy,
            "--output",
            str(tmp_path / "x"),
            "--quiet",
            "--no-png",
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert message in error and "\n" not in error


def test_symbols_and_times_select_what_a_store_replays(tmp_path: Path) -> None:
    run(tmp_path, "a")
    code = main(
        [
            "backtest",
            "--store",
            f"sqlite:///{tmp_path / 'a' / 'events.sqlite'}",
            "--strategy",
            "ma-cross",
            "--param",
            "fast=5",
            "--param",
            "slow=30",
            "--symbols",
            "WINZ25",
            "--from",
            "2025-12-01",
            "--to",
            "2025-12-01",
            "--output",
            str(tmp_path / "b"),
            "--quiet",
            "--no-png",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["run"]["trades"] == 3000
    code = main(
        [
            "backtest",
            "--store",
            f"sqlite:///{tmp_path / 'a' / 'events.sqlite'}",
            "--strategy",
            "ma-cross",
            "--symbols",
            "PETR4",
            "--output",
            str(tmp_path / "c"),
            "--quiet",
            "--no-png",
        ]
    )
    assert code == 2


def test_a_strategy_backtest_does_not_load_the_model_library(tmp_path: Path) -> None:
    # sklearn costs ~1.2 s to import: a backtest of a strategy (no model) should not pay it.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from hosts.cli import main\n"
        f"code = main({[*ARGS, '--output', str(tmp_path / 'x'), '--quiet', '--no-png']!r})\n"
        "print(code, 'sklearn' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "0 False"


def test_progress_goes_to_stderr_as_lines_when_it_is_not_a_terminal_and_quiet_silences_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["backtest", "--synthetic", "140000", "--strategy", "ma-cross", "--no-png"]
    assert main([*arguments, "--output", str(tmp_path / "a")]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 2
    assert all(re.fullmatch(r"backtest: \d0% \([\d,]+/140,000 trades\)", line) for line in lines)
    assert main([*arguments, "--output", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
