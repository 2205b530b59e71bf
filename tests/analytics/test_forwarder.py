"""Signal forwarding to a real HTTP server on loopback: queued while down, in order, none lost."""

from __future__ import annotations

import time
from typing import Any

from adapters.signals_http import SignalForwarder
from tests.analytics.api_stub import ApiStub, free_port

FAST = (0.02, 0.05)


def body(number: int) -> dict[str, Any]:
    return {"signal_id": f"id-{number}", "direction": "BUY", "confidence": 0.7}


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_forward_with_the_api_down_then_up_delivers_every_signal_in_order() -> None:
    port = free_port()
    reports: list[str] = []
    forwarder = SignalForwarder(
        f"http://127.0.0.1:{port}",
        "secret",
        retry_delays=FAST,
        report=lambda event, details: reports.append(event),
    )
    for number in range(30):
        forwarder.submit(body(number))
    assert wait_until(lambda: forwarder.status().failures >= 2)
    assert forwarder.status().queued == 30
    api = ApiStub(port)
    try:
        assert wait_until(lambda: forwarder.status().queued == 0)
        assert [item["signal_id"] for item in api.bodies] == [f"id-{n}" for n in range(30)]
        assert set(api.keys) == {"secret"}
        assert forwarder.status().delivered == 30
        assert "failing" in reports and "recovered" in reports
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_with_server_errors_retries_the_same_signal_first() -> None:
    api = ApiStub(statuses=[503, 500, 429])
    forwarder = SignalForwarder(api.url, "k", retry_delays=FAST)
    try:
        forwarder.submit(body(1))
        forwarder.submit(body(2))
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies] == ["id-1", "id-2"]
        assert forwarder.status().failures == 3
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_with_a_refused_body_counts_and_reports_it_and_goes_on() -> None:
    api = ApiStub(statuses=[422])
    reports: list[tuple[str, dict[str, Any]]] = []
    forwarder = SignalForwarder(
        api.url, "k", retry_delays=FAST, report=lambda e, d: reports.append((e, d))
    )
    try:
        forwarder.submit(body(1))
        forwarder.submit(body(2))
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies] == ["id-2"]
        assert forwarder.status().refused == 1
        assert reports[0][0] == "refused" and reports[0][1]["signal_id"] == "id-1"
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_with_a_full_queue_drops_the_oldest_and_counts_it() -> None:
    reports: list[tuple[str, dict[str, Any]]] = []
    forwarder = SignalForwarder(
        f"http://127.0.0.1:{free_port()}",
        "k",
        capacity=3,
        retry_delays=(5.0,),
        report=lambda e, d: reports.append((e, d)),
    )
    try:
        for number in range(5):
            forwarder.submit(body(number))
        status = forwarder.status()
        assert status.queued == 3 and status.dropped == 2
        dropped = [d["signal_id"] for e, d in reports if e == "dropped"]
        assert dropped == ["id-0", "id-1"] or dropped == ["id-1", "id-2"]
    finally:
        assert forwarder.close(timeout=0.1) == 3
