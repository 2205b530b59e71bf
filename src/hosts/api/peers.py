"""The other hosts' health (capture, analytics), polled from their `/health` URLs for the dashboard.

Their reports differ; `summarize` picks what an operator scans for (state, last tick age,
connection, store, restarts) from known keys and keeps the whole report beside it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric

from hosts.api.latency_windows import HistogramWindows, parse_families

POLL_SECONDS: Final = 2.0
TIMEOUT_SECONDS: Final = 1.5
AGE_KEYS: Final = (
    "last_tick_age_seconds",
    "newest_trade_age_seconds",
    "last_trade_age_seconds",
    "tick_age_seconds",
    "age_seconds",
)
RESTART_KEYS: Final = ("restarts", "restart_count")
ANALYTICS_LATENCY: Final = "analytics_processing_latency_seconds"
ORDER_LATENCY: Final = "order_latency_seconds"
HEALTH_GAUGES: Final = (
    "analytics_last_tick_timestamp_seconds",
    "analytics_capture_connections",
    "analytics_store_status",
)
"""What a host that serves /metrics only (analytics) says of its health."""


@dataclass
class PeerReport:
    name: str
    url: str
    state: str = "unknown"
    """ok, degraded, unreachable or unknown (not polled yet)."""
    checked_at: float | None = None
    """Wall-clock seconds of the last poll."""
    detail: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)
    """HEALTH_GAUGES found on a /metrics page, by name."""


def _find(report: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """Return the first of `keys` found in the report or its nested objects (breadth first)."""
    queue: list[Mapping[str, Any]] = [report]
    while queue:
        current = queue.pop(0)
        for key in keys:
            if key in current and not isinstance(current[key], Mapping):
                return current[key]
        queue.extend(value for value in current.values() if isinstance(value, Mapping))
    return None


def summarize(report: Mapping[str, Any]) -> dict[str, Any]:
    """Pick state, last tick age, connection, store and restarts from a health report."""
    status = report.get("status")
    connected = _find(report, ("connected", "market_data", "login"))
    store = report.get("store")
    store_ok = store.get("ok") if isinstance(store, Mapping) else None
    age = _find(report, AGE_KEYS)
    restarts = _find(report, RESTART_KEYS)
    feed = report.get("feed")
    phase = feed.get("phase") if isinstance(feed, Mapping) else None
    return {
        "status": str(status) if status is not None else None,
        "connected": connected if isinstance(connected, bool) else None,
        "connection": str(phase) if phase is not None else None,
        "store_ok": store_ok if isinstance(store_ok, bool) else None,
        "last_tick_age_seconds": float(age) if isinstance(age, int | float) else None,
        "restarts": int(restarts) if isinstance(restarts, int) else None,
    }


def summarize_gauges(gauges: Mapping[str, float], now: float) -> dict[str, Any]:
    """Last tick age, connection and store from a /metrics page's HEALTH_GAUGES."""
    last = gauges.get("analytics_last_tick_timestamp_seconds")
    connections = gauges.get("analytics_capture_connections")
    store = gauges.get("analytics_store_status")
    return {
        "connected": None if connections is None else connections > 0,
        "connection": None if connections is None else "capture",
        "store_ok": None if store is None else store == 1,
        "last_tick_age_seconds": max(0.0, now - last) if last else None,
    }


def health_gauges(families: Iterable[Metric]) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in families
        if family.name in HEALTH_GAUGES
        for sample in family.samples
        if not sample.labels
    }


class PeerHealth:
    """A thread that polls each configured peer's health URL every POLL_SECONDS."""

    def __init__(self, urls: Mapping[str, str | None], state_file: Path | None = None) -> None:
        self.reports = {
            name: PeerReport(name, url or "", "not configured" if not url else "unknown")
            for name, url in urls.items()
        }
        self.state_file = state_file
        self.signal_latency = HistogramWindows(ANALYTICS_LATENCY)
        """From the analytics host's /metrics, when that is the URL it is polled at."""
        self.order_latency = HistogramWindows(ORDER_LATENCY)
        """This process's own orders, whatever sent them."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changed = 0

    def restarts(self) -> dict[str, int]:
        """Restarts per host from `tradingcore up`'s state file ({} without one)."""
        if self.state_file is None:
            return {}
        try:
            hosts = json.loads(self.state_file.read_text(encoding="utf-8")).get("hosts", {})
        except (OSError, ValueError, AttributeError):
            return {}
        if not isinstance(hosts, dict):
            return {}
        return {
            name: entry["restarts"]
            for name, entry in hosts.items()
            if isinstance(entry, dict) and isinstance(entry.get("restarts"), int)
        }

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="peer-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for report in self.reports.values():
                if report.url:
                    self.poll(report)
            self.order_latency.observe(REGISTRY.collect(), int(time.time() * 1000))
            self._stop.wait(POLL_SECONDS)

    def poll(self, report: PeerReport) -> None:
        state, detail, body, text = fetch(report.url)
        gauges: dict[str, float] = {}
        if not body and text:  # a /metrics page (the analytics host's)
            families = parse_families(text)
            gauges = health_gauges(families)
            if report.name == "analytics":
                self.signal_latency.observe(families, int(time.time() * 1000))
        if (state, detail, body, gauges) != (
            report.state,
            report.detail,
            report.report,
            report.gauges,
        ):
            self.changed += 1
        report.state, report.detail, report.report, report.gauges = state, detail, body, gauges
        report.checked_at = time.time()


def fetch(url: str) -> tuple[str, str, dict[str, Any], str]:
    """GET a health URL: (state, why when not ok, the JSON body or {}, the text)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:  # 503 carries the report too
        status, raw = error.code, error.read()
    except (OSError, ValueError) as error:
        return "unreachable", f"{type(error).__name__}: {error}"[:200], {}, ""
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = {}  # a /metrics page: up or down is what it says
    if not isinstance(body, dict):
        body = {}
    if status == 200:
        return "ok", "", body, text
    return "degraded", f"HTTP {status}", body, text
