"""`tradingcore capture` as a real subprocess: synthetic and recording sources, bad input."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from adapters.recordings import export_recording
from hosts.capture.cli import add_arguments
from hosts.cli import build_parser
from tests.capture.factories import WDO, WIN, stored_trades
from tests.capture.peer import Peer
from tradingcore.ports.clock import ManualClock


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def capture(
    tmp_path: Path, *arguments: str, module: str = "hosts.capture"
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        module,
        *(["capture"] if module == "hosts" else []),
        "--metrics-port",
        "0",
        "--log-dir",
        str(tmp_path / "logs"),
        "--retry-interval",
        "0.2",
        "--drain-timeout",
        "5",
        *arguments,
    ]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )


def test_capture_command_with_synthetic_source_records_and_streams_then_exits(
    tmp_path: Path, peer: Peer
) -> None:
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    result = capture(
        tmp_path,
        "--source",
        "synthetic",
        "--symbols",
        "WINZ25,WDOF26",
        "--trades",
        "2000",
        "--seed",
        "9",
        "--store",
        store,
        "--ws-url",
        peer.url,
    )
    assert result.returncode == 0, result.stderr
    assert "captured 4000 ticks: 4000 recorded" in result.stdout
    assert "0 rejected, 4400 published, 0 dropped" in result.stdout
    assert peer.wait_for(4400)
    assert len(peer.trades()) == 4000
    app = open_store(store, ManualClock())
    assert len(stored_trades(app, WIN)) == len(stored_trades(app, WDO)) == 2000
    app.close()
    assert list((tmp_path / "logs" / "datacapture").glob("*.jsonl"))

    # The same source again on the same store: nothing is recorded twice.
    again = capture(
        tmp_path,
        "--trades",
        "2000",
        "--seed",
        "9",
        "--store",
        store,
        "--symbols",
        "WINZ25",
        "--ws-url",
        peer.url,
        module="hosts",
    )
    assert again.returncode == 0, again.stderr
    assert "0 recorded" in again.stdout and "2000 rejected" in again.stdout
    app = open_store(store, ManualClock())
    assert len(stored_trades(app, WIN)) == 2000
    app.close()


def test_capture_command_with_recording_source_replays_it_into_a_new_store(
    tmp_path: Path, peer: Peer
) -> None:
    first = f"sqlite:///{tmp_path / 'first.sqlite'}"
    result = capture(tmp_path, "--trades", "500", "--store", first, "--ws-url", peer.url)
    assert result.returncode == 0, result.stderr
    source = open_store(first, ManualClock())
    export_recording(source, tmp_path / "session.tcrec")

    second = f"sqlite:///{tmp_path / 'second.sqlite'}"
    replay = capture(
        tmp_path,
        "--source",
        "recording",
        str(tmp_path / "session.tcrec"),
        "--fast",
        "--store",
        second,
        "--ws-url",
        peer.url,
    )
    assert replay.returncode == 0, replay.stderr
    assert "captured 500 ticks: 500 recorded" in replay.stdout
    copy = open_store(second, ManualClock())
    assert stored_trades(copy, WIN) == stored_trades(source, WIN)
    copy.close()
    source.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--source", "recording"], "needs the recording file"),
        (["--source", "recording", "missing.tcrec"], "missing.tcrec: cannot read it"),
        (["--symbols", "WIN-Z25"], "invalid symbol"),
        (["--store", "mysql://db"], "unsupported scheme"),
        (["--ws-url", "http://x"], "must start with ws://"),
        (["--batch-size", "0"], "batch size 0 must be >= 1"),
        (["--store", "sqlite:///"], "SQLite file path is missing"),
    ],
)
def test_capture_command_with_bad_input_exits_2_naming_the_cause(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = capture(tmp_path, *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_capture_options_with_no_flags_default_to_the_spec() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.source, args.ws_url, args.buffer, args.retry_interval) == (
        "synthetic",
        "ws://localhost:9001",
        10_000,
        5.0,
    )
    assert (args.metrics_port, args.batch_size, args.store) == (
        9101,
        1_000,
        "sqlite:///data/events.sqlite",
    )


def test_tradingcore_command_lists_capture() -> None:
    assert "capture" in build_parser().format_help()


@pytest.mark.parametrize(("pace", "paced"), [(("--rate", "400"), True), (("--fast",), False)])
def test_a_paced_synthetic_capture_stores_trades_within_the_batch_age_a_fast_one_by_size(
    tmp_path: Path, peer: Peer, pace: tuple[str, ...], paced: bool
) -> None:
    """At 200 trades/s, batches of 1,000 by size only kept trades from the store (and the API
    host, which trades on the stored tape) for 5 s; a replay as fast as possible keeps its
    batches by size, so reruns give the same events."""
    store = f"sqlite:///{tmp_path / 'events.sqlite'}"
    result = capture(
        tmp_path, "--trades", "400", "--symbols", "WINZ25", "--no-books", *pace,
        "--store", store, "--ws-url", peer.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    batches = int(re.search(r"400 recorded in (\d+) batches", result.stdout)[1])  # type: ignore[index]

    if paced:
        assert batches > 5  # about 1 s of trades, stored at least every 75 ms of waiting
    else:
        assert batches == 1
