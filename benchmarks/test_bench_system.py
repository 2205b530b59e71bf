"""The three hosts as processes: tick -> signal -> order -> fill at 10k ticks/s, and a soak.

capture (synthetic, paced) -> analytics (WebSocket) -> api (--auto-execute, feed clock, paper
broker), all on one SQLite store on loopback. A tick's send time is its due time in the capture
host's fixed-rate schedule (start + index / rate, from its "feed connection connected" log line;
a late capture makes the figure worse, never better); the signal, order and fill times are the
hosts' JSONL log times of "Signal generated", "Order sent" and the order's first "Order filled".

    flock /tmp/tradingcore-bench.lock .venv/bin/pytest benchmarks/test_bench_system.py -s -k latency
    SYSTEM_CAPTURE_ARGS="--batch-size 100" SYSTEM_API_ARGS="--poll-interval 0.005" ...  # variant
    SOAK_SECONDS=600 flock ... .venv/bin/pytest benchmarks/test_bench_system.py -s -k soak
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from tests.system.harness import Host, System, wait_until

TRADE_ID_STEP: Final = 10
TICKS_PER_SECOND: Final = 10_000


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the analytics helpers), in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(item) for item in children.read_text().split()]
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if not status.exists():
            continue
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def log_entries(folder: Path) -> list[dict[str, Any]]:
    entries = []
    for path in sorted(folder.glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text().splitlines() if line]
    return entries


def at_ms(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp() * 1000


def latencies(logs: Path, rate: int) -> dict[str, Any]:
    """Tick -> stored signal, -> order sent, -> first fill, in ms, per auto-executed order."""
    capture = log_entries(logs / "datacapture")
    start = next(at_ms(e) for e in capture if e["message"] == "feed connection connected")
    ticks: dict[str, int] = {}
    signal_at: dict[str, float] = {}
    for entry in log_entries(logs / "analytics"):
        if entry["message"] == "Signal generated":
            key = entry["context"]["signal_id"].replace("-", "")
            ticks[key] = entry["context"]["tick_trade_id"]
            signal_at[key] = at_ms(entry)
    sent: dict[str, float] = {}
    filled: dict[str, float] = {}
    for entry in log_entries(logs / "ordermanager"):
        client = entry.get("context", {}).get("client_order_id", "")
        if not client.startswith("signal-"):
            continue
        key = client.removeprefix("signal-")
        if entry["message"] == "Order sent":
            sent.setdefault(key, at_ms(entry))
        elif entry["message"] == "Order filled":
            filled.setdefault(key, at_ms(entry))

    def due(key: str) -> float:
        return start + (ticks[key] // TRADE_ID_STEP - 1) * 1000 / rate  # only trades are paced

    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "n": len(values),
            "p50": round(float(np.percentile(values, 50)), 1),
            "p99": round(float(np.percentile(values, 99)), 1),
            "max": round(float(max(values)), 1),
        }

    result: dict[str, Any] = {}
    for name, times in (("signal", signal_at), ("order", sent), ("fill", filled)):
        values = [times[key] - due(key) for key in times if key in ticks and key in sent]
        if values:
            result[f"tick_to_{name}_ms"] = summary(values)
    waits = [filled[key] - sent[key] for key in filled if key in sent]
    if waits:
        result["order_to_fill_ms"] = summary(waits)  # the fill at the trade after the tick
    return result


class RssSampler:
    """Samples each host's RSS every `interval` seconds from a thread."""

    def __init__(self, hosts: list[Host], interval: float) -> None:
        self.hosts = hosts
        self.interval = interval
        self.samples: dict[str, list[tuple[float, float]]] = {host.name: [] for host in hosts}
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            for host in self.hosts:
                if host.process.poll() is None:
                    rss = rss_mb(host.process.pid)
                    self.samples[host.name].append((time.monotonic() - self._started, rss))
            if self._stop.wait(self.interval):
                return

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        return {
            name: {
                "first_s": round(points[0][0]),
                "first_mb": round(points[0][1], 1),
                "last_s": round(points[-1][0]),
                "last_mb": round(points[-1][1], 1),
                "max_mb": round(max(mb for _, mb in points), 1),
                "every_sample_mb": [round(mb) for _, mb in points],
            }
            for name, points in self.samples.items()
            if points
        }


def idle(analytics: Host) -> Any:
    """A condition: the analytics host's tick count stopped moving and no signal is queued."""
    seen: list[float | None] = []

    def check() -> bool:
        seen.append(analytics.metric("analytics_ticks_processed_total"))
        steady = len(seen) > 50 and seen[-1] == seen[-51]  # 10 s at wait_until's 0.2 s
        return steady and analytics.metric("analytics_signals_forward_queue") == 0

    return check


def capture_summary(logs: Path) -> dict[str, Any]:
    stopped = [e for e in log_entries(logs / "datacapture") if e["message"] == "capture stopped"]
    return stopped[-1]["context"] if stopped else {}


def run_session(
    root: Path, trades: int, ticks_per_second: int, *, rss_every: float = 0.0
) -> dict[str, Any]:
    """One seeded synthetic session through the three hosts; return latencies and RSS."""
    system = System(root)
    rate = ticks_per_second
    started = time.monotonic()
    try:
        api = system.api(*os.environ.get("SYSTEM_API_ARGS", "").split())
        analytics = system.analytics(api)
        command = system.capture_command(
            analytics, "--source", "synthetic", "--seed", "11", "--trades", str(trades),
            "--rate", str(rate), "--no-books",
            *os.environ.get("SYSTEM_CAPTURE_ARGS", "").split(),
        )  # fmt: skip
        capture = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        watched = [api, analytics, Host("capture", capture, "", system.logs)]  # type: ignore[arg-type]
        sampler = RssSampler(watched, rss_every) if rss_every else None
        _, errors = capture.communicate(timeout=trades / ticks_per_second * 3 + 120)
        assert capture.returncode == 0, errors
        captured = time.monotonic() - started
        # Every tick the capture host published (on an overloaded box its bounded WebSocket
        # buffer may drop some: they are counted in its log), and every signal delivered.
        wait_until(
            idle(analytics), timeout=600, what="the analytics host to process what it was sent"
        )
        rss = sampler.stop() if sampler else {}
        analytics.stop()
        api.stop()
    finally:
        system.stop_all()
    return {
        "trades": trades,
        "ticks_per_second": ticks_per_second,
        "capture_seconds": round(captured, 1),
        "capture": capture_summary(system.logs),
        **latencies(system.logs, rate),
        "rss": rss,
        "load": os.getloadavg(),
    }


def test_latency_tick_to_fill_across_three_processes_at_10k_ticks_per_second(
    benchmark: Any, tmp_path: Path
) -> None:
    trades = int(os.environ.get("SYSTEM_TRADES", "300000"))
    result = benchmark.pedantic(
        run_session, args=(tmp_path, trades, TICKS_PER_SECOND), rounds=1, iterations=1
    )
    benchmark.extra_info.update(result)
    print(f"\nsystem: {json.dumps(result)}")
    assert result["tick_to_fill_ms"]["n"] > 0


def test_soak_rss_per_host(benchmark: Any, tmp_path: Path) -> None:
    seconds = int(os.environ.get("SOAK_SECONDS", "60"))
    rate = int(os.environ.get("SOAK_TICKS_PER_SECOND", "5000"))
    result = benchmark.pedantic(
        run_session,
        args=(tmp_path, seconds * rate, rate),
        kwargs={"rss_every": 30.0},
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\nsoak: {json.dumps(result)}")
    assert result["rss"]
