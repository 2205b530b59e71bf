"""The commands as real subprocesses: backtest determinism, the host starting and stopping."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from websockets.sync.client import connect

from adapters.eventstore import open_store
from adapters.recordings import export_recording
from hosts.cli import main
from tests.analytics.factories import session, tick_json
from tests.analytics.test_host import record_tape
from tradingcore.ports.clock import ManualClock

FAST = [
    "--window=20",
    "--momentum-lag=5",
    "--horizon=10",
    "--train-stride=2",
    "--batch-size=40",
    "--update-delay=7",
    "--buy-threshold=0.5",
    "--sell-threshold=0.5",
]


def tradingcore(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hosts.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def recording(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    record_tape(url, session(3_000, seed=8))
    app = open_store(url, ManualClock())
    path = tmp_path / "session.tcrec"
    export_recording(app, path)
    app.close()
    return path, url


def test_backtest_twice_with_the_same_recording_gives_the_same_signals(
    recording: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, url = recording
    first, second = (
        tradingcore("backtest", str(path), "--json", f"--signals-out={tmp_path}/{name}", *FAST)
        for name in ("a.jsonl", "b.jsonl")
    )
    code, from_store, _ = in_process(capsys, "backtest", "--store", url, "--json", *FAST)
    assert first.returncode == 0, first.stderr
    assert code == 0
    reports = [json.loads(text) for text in (first.stdout, second.stdout, from_store)]
    assert len({report["signals_sha256"] for report in reports}) == 1
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    symbol = reports[0]["symbols"]["WINZ25"]
    assert symbol["ticks"] == 3_000
    assert sum(symbol["signals"].values()) == len((tmp_path / "a.jsonl").read_text().splitlines())
    assert symbol["pnl"] is not None
    # Money has two decimals; every contract traded paid at least the WIN day-trade fee.
    assert all(re.fullmatch(r"-?\d+\.\d\d", symbol[key]) for key in ("pnl", "fees", "net_pnl"))
    assert Decimal(symbol["fees"]) >= Decimal("0.25") * symbol["contracts_traded"]
    assert Decimal(symbol["net_pnl"]) == Decimal(symbol["pnl"]) - Decimal(symbol["fees"])


def test_backtest_prints_a_report_with_hit_rate_and_pnl(
    recording: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = in_process(capsys, "backtest", str(recording[0]), *FAST)
    assert code == 0
    assert "hit rate" in out and "P&L R$" in out and "signals sha256" in out


def test_backtest_with_a_corrupt_recording_exits_2_naming_it(
    recording: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = recording[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    code, _, err = in_process(capsys, "backtest", str(path))
    assert code == 2
    assert str(path) in err


def test_backtest_without_a_source_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = in_process(capsys, "backtest")
    assert code == 2 and "RECORDING" in err


def test_host_as_a_process_takes_ticks_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "hosts.analytics",
        "--listen=127.0.0.1:0",
        "--metrics-port=0",
        f"--store=sqlite:///{tmp_path / 'events.sqlite'}",
        f"--log-dir={tmp_path / 'logs'}",
        f"--model={tmp_path / 'model.json'}",
        *FAST,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("analytics listening on ws://127.0.0.1:"), line
        url = line.split()[3].rstrip(",")
        with connect(url) as client:
            for event in session(600, seed=2):
                client.send(tick_json(event))
            client.send("not json")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "analytics stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert (tmp_path / "model.json").exists()


def test_a_taken_metrics_port_is_an_error_naming_the_address(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = tradingcore(
            "analytics", "--listen", "127.0.0.1:0", "--metrics-port", str(port),
            "--store", f"sqlite:///{tmp_path / 'events.sqlite'}",
            "--log-dir", str(tmp_path / "logs"), "--writer", "thread", "--trainer", "thread",
        )  # fmt: skip

    assert done.returncode == 2
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
