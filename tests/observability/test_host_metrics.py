"""Each host's /metrics: every declared family has a sample, the spec's names, process metrics,
and dashboards and alert rules that query only what the hosts export."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from adapters.process_metrics import PROCESS_METRICS
from tests.observability.conftest import DEPLOY
from tests.observability.promql import metric_names
from tests.observability.system import System

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("observability_system")]

HOSTS = ("capture", "analytics", "api")
SPEC_METRICS = {
    # spec 8.1 name: the name exported (latency in seconds, Prometheus convention)
    "datacapture_ticks_received_total": "datacapture_ticks_received_total",
    "datacapture_websocket_latency_ms": "datacapture_websocket_latency_seconds_bucket",
    "datacapture_connection_status": "datacapture_connection_status",
    "analytics_signals_generated_total": "analytics_signals_generated_total",
    "analytics_model_accuracy": "analytics_model_accuracy",
    "analytics_processing_latency_ms": "analytics_processing_latency_seconds_bucket",
    "orders_executed_total": "orders_executed_total",
    "orders_rejected_total": "orders_rejected_total",
    "position_pnl_realized": "position_pnl_realized",
}
PROMETHEUS_OWN = frozenset({"up", "ALERTS"})
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
RULES = DEPLOY / "prometheus" / "tradingcore.rules.yml"


def exported_sample_names(system: System) -> set[str]:
    names: set[str] = set()
    for host in HOSTS:
        for family in text_string_to_metric_families(system.scrape(host)):
            names.update(sample.name for sample in family.samples)
    return names


@pytest.mark.parametrize("host", HOSTS)
def test_every_metric_a_host_declares_has_a_sample(system: System, host: str) -> None:
    families = system.families(host)
    assert families, f"{host} exports nothing"
    empty = sorted(name for name, samples in families.items() if samples == 0)
    assert empty == [], f"{host} declares metrics without a value: {empty}"


@pytest.mark.parametrize("host", HOSTS)
def test_every_host_exports_process_cpu_memory_and_python_info(system: System, host: str) -> None:
    names = {sample.name for family in text_string_to_metric_families(system.scrape(host))
             for sample in family.samples}  # fmt: skip
    assert set(PROCESS_METRICS) | {"python_info"} <= names


def test_the_spec_metrics_are_exported_with_latency_in_seconds(system: System) -> None:
    exported = exported_sample_names(system)
    assert {name for name in SPEC_METRICS.values() if name not in exported} == set()
    assert not any(name.endswith(("_ms", "_ms_bucket")) for name in exported)


def test_the_trading_metrics_follow_the_seeded_round_trip(system: System) -> None:
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(system.scrape("api"))
        for sample in family.samples
    }
    alice = (("account", "alice"),)
    assert samples[("account_pnl_realized", alice)] > 0  # bought 127,850, sold 127,900
    assert samples[("account_pnl_drawdown", alice)] == 0
    assert samples[("account_closing_fills_total", (("account", "alice"), ("result", "win")))] == 1
    assert samples[("account_closing_fills_total", (("account", "alice"), ("result", "loss")))] == 0
    assert samples[("risk_daily_loss_limit", ())] > 0
    assert samples[("orders_executed_total", ())] >= 2


def test_analytics_health_and_order_latency_have_values_from_the_running_session(
    system: System,
) -> None:
    def value(host: str, name: str) -> float:
        for family in text_string_to_metric_families(system.scrape(host)):
            for sample in family.samples:
                if sample.name == name and not sample.labels:
                    return float(sample.value)
        raise AssertionError(f"{host} exports no {name}")

    # What the dashboard's analytics card shows: a recent tick, the capture host, the store.
    assert value("analytics", "analytics_last_tick_timestamp_seconds") > 1e9
    assert value("analytics", "analytics_capture_connections") >= 1
    assert value("analytics", "analytics_store_status") == 1
    # Every seeded order was timed, from its submission to its answer.
    assert value("api", "order_latency_seconds_count") >= 2


def panel_expressions(dashboard: dict[str, object]) -> list[tuple[str, str]]:
    found = []
    for panel in dashboard["panels"]:  # type: ignore[attr-defined]
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_panels_query_only_metrics_the_hosts_export(system: System, path: Path) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    expressions = panel_expressions(dashboard)
    assert expressions
    exported = exported_sample_names(system) | PROMETHEUS_OWN
    unknown = {
        (title, name)
        for title, expression in expressions
        for name in metric_names(expression)
        if name not in exported
    }
    assert unknown == set(), f"panels query metrics no host exports: {sorted(unknown)}"


def test_the_two_spec_dashboards_are_shipped() -> None:
    titles = {json.loads(path.read_text())["title"] for path in DASHBOARDS}
    assert titles == {"tradingcore: System Health", "tradingcore: Trading Performance"}


def test_alert_rules_query_only_metrics_the_hosts_export(system: System) -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    exported = exported_sample_names(system) | PROMETHEUS_OWN
    unknown = {
        (rule["alert"], name)
        for rule in rules
        for name in metric_names(str(rule["expr"]))
        if name not in exported
    }
    assert unknown == set()
    assert {rule["alert"] for rule in rules} >= {
        "HostDown", "FeedStale", "KillSwitchEngaged", "DailyLossNearLimit", "RejectionRateSpike",
        "CaptureLatencyP99OverTarget", "AnalyticsLatencyP99OverTarget", "ApiLatencyP99OverTarget",
        "OrderLatencyP99OverTarget",
    }  # fmt: skip


def test_promql_names_skip_functions_keywords_labels_and_numbers() -> None:
    expression = (
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="a"}[5m]))) > 1e-3 '
        "and on(instance) y / ignoring(account) group_left() z offset 5m"
    )
    assert metric_names(expression) == {"x_bucket", "y", "z"}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_shipped_config_and_rules_pass_promtool() -> None:
    config = DEPLOY / "prometheus" / "prometheus.yml"
    for command in (["check", "rules", str(RULES)], ["check", "config", str(config)]):
        done = subprocess.run(
            ["promtool", *command], check=False, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
