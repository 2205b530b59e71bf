"""A real Prometheus scrapes the running hosts with the shipped config and alert rules."""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import IN_CI
from tests.observability.conftest import DEPLOY
from tests.observability.system import System, eventually
from tests.observability.test_host_metrics import SPEC_METRICS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability_system")]

PROMETHEUS = shutil.which("prometheus") or (
    "/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None
)
SHIPPED_PORTS = {"capture": 9101, "analytics": 9102, "api": 8000}


def render(directory: Path, ports: dict[str, int]) -> Path:
    """The shipped config with the test's ports and 1 s intervals; rules with 1 s `for`."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(SHIPPED_PORTS)
    for name, job in jobs.items():
        (target,) = job["static_configs"][0]["targets"]
        assert target == f"127.0.0.1:{SHIPPED_PORTS[name]}", "the hosts' default ports"
        job["static_configs"][0]["targets"] = [f"127.0.0.1:{ports[name]}"]
        job["scrape_timeout"] = "1s"
    rules = (DEPLOY / "prometheus" / "tradingcore.rules.yml").read_text()
    for rule_file in config["rule_files"]:
        (directory / rule_file).write_text(re.sub(r"\bfor: \S+", "for: 1s", rules))
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PROMETHEUS is None:
        message = "prometheus is not installed (Debian: apt-get install prometheus)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("prometheus")
    ports = {name: host.port for name, host in system.hosts.items()}
    config = render(directory, ports)
    url = f"http://127.0.0.1:{free_port()}"
    log = (directory / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        eventually(lambda: httpx.get(f"{url}/-/ready").status_code == 200, what="ready")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def query(url: str, expression: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expression}, timeout=10).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def test_prometheus_scrapes_every_host_with_the_shipped_config(prometheus: str) -> None:
    def all_up() -> bool:
        targets = httpx.get(f"{prometheus}/api/v1/targets").json()["data"]["activeTargets"]
        return sorted((t["labels"]["job"], t["health"]) for t in targets) == [
            ("analytics", "up"), ("api", "up"), ("capture", "up"),
        ]  # fmt: skip

    eventually(all_up, what="every target up")
    rules = httpx.get(f"{prometheus}/api/v1/rules").json()["data"]["groups"]
    assert {rule["name"] for group in rules for rule in group["rules"]} >= {"HostDown"}


def test_every_spec_metric_is_in_prometheus(prometheus: str) -> None:
    for exported in SPEC_METRICS.values():
        eventually(lambda name=exported: query(prometheus, name), what=exported)


def test_a_histogram_quantile_query_answers_a_latency(prometheus: str) -> None:
    expression = (
        "histogram_quantile(0.99, sum by (le) "
        "(rate(datacapture_websocket_latency_seconds_bucket[10s])))"
    )

    def answered() -> bool:
        result = query(prometheus, expression)
        return bool(result) and math.isfinite(float(result[0]["value"][1]))

    eventually(answered, timeout=60, what="a p99")
    p99 = float(query(prometheus, expression)[0]["value"][1])
    assert 0 < p99 < 60  # seconds: a millisecond value would read as minutes


def test_a_killed_host_fires_the_host_down_alert(prometheus: str, system: System) -> None:
    def firing(job: str) -> bool:
        alerts = httpx.get(f"{prometheus}/api/v1/alerts").json()["data"]["alerts"]
        return any(
            alert["labels"]["alertname"] == "HostDown"
            and alert["labels"].get("job") == job
            and alert["state"] == "firing"
            for alert in alerts
        )

    eventually(lambda: query(prometheus, 'up{job="capture"} == 1'), what="capture up")
    assert not firing("capture")
    system.hosts["capture"].process.kill()
    eventually(lambda: firing("capture"), timeout=60, what="HostDown fires for capture")
    assert not firing("api")
