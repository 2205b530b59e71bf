"""The runner on its own, with real child processes: a host that cannot start stops `up`."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from hosts.supervisor.plan import HostPlan, Probe, RestartPolicy
from hosts.supervisor.runner import RunSettings, Supervisor, SupervisorMetrics
from hosts.supervisor.state import StateFile


def supervisor(tmp_path: Path, host: HostPlan, said: list[str]) -> Supervisor:
    settings = RunSettings(
        config_file=tmp_path / "missing.toml",
        output_dir=tmp_path / "out",
        environments={host.name: dict(os.environ)},
        health_timeout=60,
        poll_interval=0.05,
    )
    return Supervisor(
        [host],
        RestartPolicy(initial=0.05, maximum=0.1),
        settings,
        state=StateFile(tmp_path / "state.json"),
        logger=logging.getLogger("test.supervisor"),
        metrics=SupervisorMetrics(),
        say=said.append,
    )


def plan_of(name: str) -> HostPlan:
    return HostPlan(
        name=name, service_name=f"TradingSystem-{name}", description=name, requires=(),
        after=(), probes=(Probe(tcp=("127.0.0.1", 1)),), listens=(),
    )  # fmt: skip


def test_a_host_refusing_its_options_stops_up_with_its_own_error(tmp_path: Path) -> None:
    said: list[str] = []
    run = supervisor(tmp_path, plan_of("capture"), said)  # its config file does not exist
    assert run.run(threading.Event()) == 1
    assert any("capture could not start (exit code 2)" in line for line in said), said
    assert any("missing.toml" in line for line in said)
    assert not (tmp_path / "state.json").exists()


def test_down_while_starting_stops_at_once(tmp_path: Path) -> None:
    said: list[str] = []
    (tmp_path / "missing.toml").write_text("")
    run = supervisor(tmp_path, plan_of("analytics"), said)  # never healthy: port 1
    run.state.request_stop()
    stop = threading.Event()
    assert run.run(stop) == 0
    assert stop.is_set()
    assert any(line.startswith("analytics: stopped") for line in said), said
