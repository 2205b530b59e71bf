"""Services from the one plan: systemd units on Linux; the Windows pieces that run anywhere."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hosts.config import TradingConfig, parse_config
from hosts.supervisor import winservice
from hosts.supervisor.services import service_definitions
from hosts.supervisor.systemd import render_unit, unit_name
from tests.supervisor.system import free_ports


def tradingcore(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hosts.cli", *arguments],
        cwd=folder, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def unit_lines(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_units_start_in_the_plans_order_and_restart_on_failure(tmp_path: Path) -> None:
    definitions = service_definitions(TradingConfig(), tmp_path / "tc.toml", tmp_path)
    analytics, capture, api = (unit_lines(render_unit(item)) for item in definitions)
    assert "Requires" not in analytics
    assert capture["Requires"] == "tradingsystem-analytics.service"
    assert capture["After"].split()[1:] == ["tradingsystem-analytics.service"]
    assert api["After"].split()[1:] == [
        "tradingsystem-analytics.service",
        "tradingsystem-datacapture.service",
    ]
    for unit in (analytics, capture, api):
        assert unit["Restart"] == "on-failure"
        assert unit["RestartSec"] == "1"
        assert unit["RestartMaxDelaySec"] == "30"
        assert "service wait-healthy" in unit["ExecStartPost"]
    assert capture["ExecStart"] == (
        f"{sys.executable} -m hosts.cli capture --config {tmp_path / 'tc.toml'}"
    )
    assert analytics["EnvironmentFile"] == str(tmp_path / "data/service-analytics.env")
    assert capture["Environment"] == "TRADINGCORE_SERVICE=TradingSystem-DataCapture"
    assert "--api-url http://127.0.0.1:8000" in analytics["ExecStart"]


def test_units_follow_the_configured_backoff(tmp_path: Path) -> None:
    config = parse_config({"supervisor": {"backoff_initial": 2, "backoff_max": 60}})
    unit = unit_lines(render_unit(service_definitions(config, tmp_path / "c", tmp_path)[0]))
    assert (unit["RestartSec"], unit["RestartSteps"], unit["RestartMaxDelaySec"]) == (
        "2",
        "5",
        "60",
    )


def test_service_install_writes_units_and_private_keys(tmp_path: Path) -> None:
    result = tradingcore(tmp_path, "service", "install", "--output", "units")
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in (tmp_path / "units").iterdir())
    assert names == sorted(
        unit_name(name)
        for name in (
            "TradingSystem-Analytics",
            "TradingSystem-DataCapture",
            "TradingSystem-Gateway",
        )
    )
    assert (tmp_path / "tradingcore.toml").exists()
    secret_file = tmp_path / "data/service-analytics.env"
    secret = secret_file.read_text().strip().partition("=")[2]
    assert secret.startswith("tc_")
    assert secret not in result.stdout + result.stderr
    if os.name == "posix":
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    again = tradingcore(tmp_path, "service", "install", "--output", "units")
    assert again.returncode == 0
    assert secret_file.read_text().strip().partition("=")[2] == secret  # kept, not replaced
    removed = tradingcore(tmp_path, "service", "remove", "--output", "units")
    assert removed.returncode == 0
    assert list((tmp_path / "units").iterdir()) == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    assert tradingcore(tmp_path, "service", "install", "--output", "units").returncode == 0
    result = subprocess.run(
        ["systemd-analyze", "verify", *map(str, sorted((tmp_path / "units").iterdir()))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    problems = [
        line for line in result.stderr.splitlines()
        if "RestartSteps" not in line and "RestartMaxDelaySec" not in line  # systemd < 254
    ]  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert problems == []


@pytest.fixture
def health_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_wait_healthy_returns_once_the_host_answers(tmp_path: Path, health_server: int) -> None:
    nobody = free_ports(1)[0]  # the api's: nothing listens there
    (tmp_path / "tradingcore.toml").write_text(
        f"[capture]\nmetrics_port = {health_server}\n[api]\nport = {nobody}\n"
        "[supervisor]\nhealth_timeout = 5\n"
    )
    assert tradingcore(tmp_path, "service", "wait-healthy", "capture").returncode == 0
    late = tradingcore(tmp_path, "service", "wait-healthy", "api")
    assert late.returncode == 1
    assert "api not healthy" in late.stderr
    unknown = tradingcore(tmp_path, "service", "wait-healthy", "nope")
    assert unknown.returncode == 2


def test_the_windows_service_module_imports_anywhere_and_names_its_classes() -> None:
    assert winservice.class_name("TradingSystem-Gateway") == "TradingSystem_Gateway"
    with pytest.raises(AttributeError):
        winservice.NotAService  # noqa: B018


def test_the_service_key_file_reads_as_an_environment(tmp_path: Path) -> None:
    path = tmp_path / "service.env"
    path.write_text("# comment\nTRADINGCORE_API_KEY=tc_abc=def\n\nOTHER = 1\n")
    assert winservice.read_environment_file(path) == {
        "TRADINGCORE_API_KEY": "tc_abc=def",
        "OTHER": "1",
    }
