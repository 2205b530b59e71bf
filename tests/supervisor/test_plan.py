"""The one plan both `up` and the service installers run: order, dependencies, backoff."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hosts.config import TradingConfig, parse_config
from hosts.supervisor.cli import replay_note
from hosts.supervisor.plan import PlanError, RestartPolicy, stop_order, system_plan


def test_hosts_start_in_the_spec_order_and_stop_in_reverse() -> None:
    plan = system_plan(TradingConfig())
    assert [host.name for host in plan] == ["analytics", "capture", "api"]
    assert [host.service_name for host in plan] == [
        "TradingSystem-Analytics",
        "TradingSystem-DataCapture",
        "TradingSystem-Gateway",
    ]
    assert [host.name for host in stop_order(plan)] == ["api", "capture", "analytics"]


def test_each_host_starts_after_everything_it_needs() -> None:
    plan = system_plan(TradingConfig())
    position = {host.name: index for index, host in enumerate(plan)}
    for host in plan:
        for before in (*host.requires, *host.after):
            assert position[before] < position[host.name]
    assert plan[1].requires == ("analytics",)


def test_probes_use_the_configured_ports() -> None:
    config = parse_config({"analytics": {"port": 9555}, "api": {"port": 8123, "host": "0.0.0.0"}})
    analytics, capture, api = system_plan(config)
    assert analytics.probes[0].tcp == ("127.0.0.1", 9555)
    assert capture.probes[0].url == "http://127.0.0.1:9101/health"
    assert api.probes[0].url == "http://127.0.0.1:8123/health"
    assert analytics.extra_arguments == ("--api-url", "http://127.0.0.1:8123")
    assert api.extra_arguments == (
        "--capture-health-url",
        "http://127.0.0.1:9101/health",
        "--analytics-health-url",
        "http://127.0.0.1:9102/metrics",
    )


def test_hosts_without_metrics_are_probed_on_what_they_serve() -> None:
    config = parse_config({"analytics": {"metrics_port": -1}, "capture": {"metrics_port": -1}})
    analytics, capture, api = system_plan(config)
    assert [probe.url for probe in analytics.probes] == [None]
    assert capture.probes == ()
    assert api.extra_arguments == ()


def test_a_capture_without_health_port_has_no_probe_and_a_live_feed_is_not_finite() -> None:
    config = parse_config({"capture": {"metrics_port": -1, "source": "profitdll"}})
    capture = system_plan(config)[1]
    assert capture.probes == ()
    assert not capture.finite


@pytest.mark.parametrize(
    ("plain", "named"),
    [
        ({"api": {"port": 0}}, "api.port = 0"),
        ({"capture": {"metrics_port": 0}}, "capture.metrics_port = 0"),
        ({"analytics": {"metrics_port": 0}}, "analytics.metrics_port = 0"),
        ({"api": {"port": 9001}}, "api.port and analytics.port are both port 9001"),
    ],
)
def test_ports_a_supervisor_cannot_probe_are_refused(
    plain: dict[str, dict[str, int]], named: str
) -> None:
    with pytest.raises(PlanError, match=named):
        system_plan(parse_config(plain))


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    policy = RestartPolicy(initial=1, maximum=30, reset_after=60)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.steps() == [1, 2, 4, 8, 16, 30]


@given(
    initial=st.floats(0.01, 100),
    factor=st.floats(1, 1000),
    failures=st.integers(1, 10_000),
)
def test_backoff_never_shrinks_and_never_passes_the_cap(
    initial: float, factor: float, failures: int
) -> None:
    policy = RestartPolicy(initial=initial, maximum=initial * factor)
    assert policy.delay(1) == initial
    assert policy.delay(failures) <= policy.maximum
    assert policy.delay(failures + 1) >= policy.delay(failures)
    steps = policy.steps()
    assert steps[-1] == policy.maximum
    assert steps == sorted(steps)


def test_up_warns_that_a_store_holding_the_synthetic_session_records_nothing_new(
    tmp_path: Path,
) -> None:
    store = tmp_path / "events.sqlite"
    config = parse_config({"store": {"url": f"sqlite:///{store}"}})
    assert replay_note(config) == ""
    store.write_bytes(b"")
    assert f"note: {store} exists" in replay_note(config)
    assert (
        replay_note(parse_config({**config.model_dump(), "capture": {"source": "recording"}})) == ""
    )
