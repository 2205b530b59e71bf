"""`tradingcore up` with real processes: order, status, restarts with backoff, clean stops."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.supervisor.system import System, alive, descendants, wait_gone, write_config

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("supervisor")]


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    write_config(tmp_path)
    running = System(tmp_path)
    yield running
    running.close()


def test_up_starts_in_order_restarts_with_backoff_and_stops_in_reverse(system: System) -> None:
    system.wait_started()
    steps = [
        (entry["message"], entry["context"].get("host"))
        for entry in system.log()
        if entry["message"] in ("host started", "host healthy")
    ]
    assert steps[:6] == [
        ("host started", "analytics"),
        ("host healthy", "analytics"),
        ("host started", "capture"),
        ("host healthy", "capture"),
        ("host started", "api"),
        ("host healthy", "api"),
    ]
    printed = system.printed()
    state = system.state()
    assert f"dashboard: {state['dashboard']}" in printed
    assert "operator API key (admin, created now): in data/operator-api-key.txt" in printed
    key = (system.folder / "data/operator-api-key.txt").read_text().strip()
    assert key not in printed

    status = system.tradingcore("status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert {name: row["health"] for name, row in report["hosts"].items()} == {
        "analytics": "healthy",
        "capture": "healthy",
        "api": "healthy",
    }

    for kill in (1, 2):  # the second death comes soon after the first: the delay doubles
        api_pid = system.state()["hosts"]["api"]["pid"]
        os.kill(api_pid, signal.SIGKILL)
        system.wait_for(
            f"restart {kill} of the api",
            lambda kill=kill: (
                len(  # type: ignore[misc]
                    [event for event in system.events("host restarted") if event["host"] == "api"]
                )
                == kill
            ),
        )
        assert system.state()["hosts"]["api"]["pid"] != api_pid
    deaths = [event for event in system.events("host died; restarting after backoff")]
    assert [(event["host"], event["exit_code"]) for event in deaths] == [("api", -9), ("api", -9)]
    assert [event["delay_seconds"] for event in deaths] == [0.5, 1.0]
    assert system.metric("supervisor_restarts_total", 'host="api"') == 2.0
    assert system.metric("supervisor_restarts_total", 'host="analytics"') in (None, 0.0)
    system.wait_for(
        "the api to be healthy again", lambda: system.tradingcore("status").returncode == 0
    )

    everything = descendants(system.process.pid)
    assert len(everything) >= 3
    system.process.send_signal(signal.SIGTERM)
    assert system.process.wait(120) == 0
    stops = [event["host"] for event in system.events("stopping host")]
    assert stops == ["api", "capture", "analytics"]
    assert wait_gone(everything) == set()
    assert not (system.folder / "data/supervisor/state.json").exists()


def test_capture_finishing_keeps_the_rest_up_until_down(tmp_path: Path) -> None:
    write_config(tmp_path, capture={"trades": 2_000, "rate": 1_000.0})
    system = System(tmp_path)
    try:
        system.wait_started()
        system.wait_for("capture to finish", lambda: bool(system.events("host finished")))
        status = system.tradingcore("status", "--json")
        report = json.loads(status.stdout)
        assert report["hosts"]["capture"]["status"] == "finished"
        assert "  captured 2000 ticks: 2000 recorded" in system.printed()  # its summary, relayed
        assert report["hosts"]["api"]["health"] == "healthy"
        assert status.returncode == 0
        everything = descendants(system.process.pid)
        down = system.tradingcore("down")
        assert down.returncode == 0, down.stderr
        assert system.process.wait(60) == 0
        assert [event["host"] for event in system.events("stopping host")] == ["api", "analytics"]
        assert wait_gone(everything) == set()
        assert system.tradingcore("status").returncode == 3
    finally:
        system.close()


def test_hosts_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    write_config(tmp_path)
    system = System(tmp_path)
    try:
        system.wait_for("capture to start", lambda: bool(system.events("host healthy")[1:]))
        everything = descendants(system.process.pid)
        assert alive(everything)
        system.process.send_signal(signal.SIGKILL)
        system.process.wait(30)
        assert wait_gone(everything) == set()
    finally:
        system.close()


def test_up_with_a_bad_key_names_it_and_starts_nothing(tmp_path: Path) -> None:
    write_config(tmp_path, capture={"trdes": 5})
    system = System(tmp_path)
    try:
        assert system.process.wait(60) == 2
        assert "capture.trdes: unknown key" in system.printed()
        assert not (tmp_path / "data/supervisor/state.json").exists()
    finally:
        system.close()


def test_up_names_a_port_another_program_holds(tmp_path: Path) -> None:
    import socket
    import tomllib

    write_config(tmp_path)
    port = tomllib.loads((tmp_path / "tradingcore.toml").read_text())["api"]["port"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        system = System(tmp_path)
        try:
            assert system.process.wait(60) == 2
        finally:
            system.close()
    assert f"api.port 127.0.0.1:{port} is in use" in system.printed()


def test_exit_when_done_stops_everything_once_the_source_ends(tmp_path: Path) -> None:
    """A source this short may end before capture is probed healthy: the same rule holds."""
    write_config(tmp_path)
    system = System(tmp_path, "--exit-when-done", "--seed", "3", "--trades", "300", "--fast")
    try:
        assert system.process.wait(300) == 0, system.printed()
        everything = [entry["message"] for entry in system.log()]
        assert everything.index("host finished") < everything.index("stopping host")
        assert [event["host"] for event in system.events("stopping host")] == ["api", "analytics"]
        assert "capture: source finished; stopping the system" in system.printed()
    finally:
        system.close()
