"""Signal forwarding to a real HTTP server on loopback: queued while down, in order, none lost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters.signals_http import BATCH_BYTES, SignalForwarder
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


def queued_while_down(
    bodies: list[dict[str, Any]], report: Any = None
) -> tuple[SignalForwarder, int]:
    """A forwarder that queued `bodies` and failed to reach its API (not up yet on the port)."""
    port = free_port()
    forwarder = SignalForwarder(f"http://127.0.0.1:{port}", "k", retry_delays=FAST, report=report)
    for item in bodies:
        forwarder.submit(item)
    assert wait_until(lambda: forwarder.status().failures >= 1)
    return forwarder, port


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
    api = ApiStub(port, batch=True)
    try:
        assert wait_until(lambda: forwarder.status().queued == 0)
        assert [item["signal_id"] for item in api.bodies] == [f"id-{n}" for n in range(30)]
        assert api.requests == [("/api/v1/signals/batch", 30)]  # what queued: one request
        assert set(api.keys) == {"secret"}
        assert forwarder.status().delivered == 30
        assert "failing" in reports and "recovered" in reports
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_with_server_errors_retries_the_same_signal_first() -> None:
    api = ApiStub(statuses=[503, 500, 429], batch=True)
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


def test_forward_of_a_lone_signal_uses_the_single_signal_endpoint() -> None:
    api = ApiStub(batch=True)
    forwarder = SignalForwarder(api.url, "k", retry_delays=FAST)
    try:
        forwarder.submit(body(1))
        assert forwarder.flush(10.0)
        assert api.requests == [("/api/v1/signals", 1)]
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_of_a_batch_with_a_refused_signal_refuses_only_that_one() -> None:
    reports: list[tuple[str, dict[str, Any]]] = []
    forwarder, port = queued_while_down(
        [body(n) for n in range(4)], report=lambda e, d: reports.append((e, d))
    )
    api = ApiStub(port, batch=True, item_statuses=[201, 422, 409, 201])
    try:
        assert forwarder.flush(10.0)
        assert api.requests == [("/api/v1/signals/batch", 4)]
        assert [item["signal_id"] for item in api.bodies] == ["id-0", "id-3"]
        status = forwarder.status()
        assert (status.delivered, status.refused) == (3, 1)  # 409: the API already has it
        assert [d["signal_id"] for e, d in reports if e == "refused"] == ["id-1"]
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_of_a_batch_refused_whole_sends_its_signals_alone_then_batches_again() -> None:
    forwarder, port = queued_while_down([body(n) for n in range(3)])
    # The batch is refused (one body in it is bad), then alone: 201, 422, 201.
    api = ApiStub(port, statuses=[422, 201, 422, 201], batch=True)
    try:
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies] == ["id-0", "id-2"]
        assert forwarder.status().refused == 1
        assert api.requests == [("/api/v1/signals/batch", 3)] + [("/api/v1/signals", 1)] * 3
        for number in range(3, 6):
            forwarder.submit(body(number))
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies[2:]] == ["id-3", "id-4", "id-5"]
        later = api.requests[4:]  # the first may go alone, before the others are queued
        assert sum(count for _, count in later) == 3 and len(later) <= 2
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_to_an_api_without_the_batch_endpoint_sends_one_signal_a_request() -> None:
    forwarder, port = queued_while_down([body(n) for n in range(5)])
    api = ApiStub(port)  # no batch endpoint: 404
    try:
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies] == [f"id-{n}" for n in range(5)]
        assert api.requests == [("/api/v1/signals/batch", 0)] + [("/api/v1/signals", 1)] * 5
        assert forwarder.status().refused == 0
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def test_forward_splits_a_long_queue_into_batches_under_the_body_limit() -> None:
    features = {f"feature_{i}": 0.1 * i for i in range(40)}
    wide = [{**body(n), "features": features} for n in range(400)]
    forwarder, port = queued_while_down(wide)
    api = ApiStub(port, batch=True)
    try:
        assert forwarder.flush(10.0)
        assert [item["signal_id"] for item in api.bodies] == [f"id-{n}" for n in range(400)]
        sizes = [count for _, count in api.requests]
        assert sum(sizes) == 400 and max(sizes) <= 100 and len(sizes) >= 5
        encoded = len(json.dumps({"signals": wide[:100]}).encode())
        assert encoded > BATCH_BYTES  # so the byte bound, not only the count, split them
    finally:
        forwarder.close(timeout=1.0)
        api.close()


@contextmanager
def forwarding(api: ApiStub, **options: Any) -> Iterator[SignalForwarder]:
    """A forwarder to `api` (fast retries), both closed at the end."""
    forwarder = SignalForwarder(api.url, "k", retry_delays=FAST, **options)
    try:
        yield forwarder
    finally:
        forwarder.close(timeout=1.0)
        api.close()


def mark(trade_id: int) -> list[dict[str, Any]]:
    return [{"symbol": "WINZ25", "tick_timestamp_ms": 1_000 + trade_id, "tick_trade_id": trade_id}]


def test_a_progress_mark_waits_for_the_signals_before_it_and_travels_with_the_last() -> None:
    api = ApiStub(batch=True, progress=True)
    with forwarding(api) as forwarder:
        forwarder.progress("WINZ25", 1_010, 10, after=1)  # its signal is not stored yet
        time.sleep(0.1)
        assert api.events == []

        forwarder.submit(body(1))

        assert wait_until(lambda: len(api.events) == 2)
        assert api.events == [("signal", "id-1"), ("marks", mark(10))]
        assert api.requests == [("/api/v1/signals/batch", 1)]  # one request: signal and mark


def test_marks_alone_go_to_the_progress_endpoint_at_most_every_interval() -> None:
    api = ApiStub(batch=True, progress=True)
    with forwarding(api, progress_interval=0.05) as forwarder:
        started = time.monotonic()
        for trade_id in range(1, 301):  # ~0.3 s of ticks, no signal
            forwarder.progress("WINZ25", 1_000 + trade_id, trade_id, after=0)
            time.sleep(0.001)
        elapsed = time.monotonic() - started

        assert wait_until(lambda: api.events and api.events[-1] == ("marks", mark(300)))
        sent = [path for path, _ in api.requests]
        assert set(sent) == {"/api/v1/signals/progress"}
        assert 2 <= len(sent) <= elapsed / 0.05 + 2
        ticks = [marks[0]["tick_trade_id"] for _, marks in api.events]
        assert ticks == sorted(ticks)  # never behind an earlier one


def test_marks_never_run_ahead_of_a_signal_they_count_in_any_order_of_calls() -> None:
    api = ApiStub(batch=True, progress=True)
    with forwarding(api, progress_interval=0.001) as forwarder:
        signals = 0
        for trade_id in range(1, 401):
            if trade_id % 7 == 0:
                signals += 1  # decided at this tick: handed to the writer, stored a bit later
            forwarder.progress("WINZ25", 1_000 + trade_id, trade_id, after=signals)
            if trade_id % 7 == 3 and trade_id > 7:
                forwarder.submit(body(forwarder.status().delivered + forwarder.status().queued + 1))
            time.sleep(0.0005)
        while forwarder.status().delivered + forwarder.status().queued < signals:
            forwarder.submit(body(forwarder.status().delivered + forwarder.status().queued + 1))
        assert forwarder.flush(10.0)
        assert wait_until(lambda: api.events[-1] == ("marks", mark(400)))

        delivered = 0
        for kind, item in api.events:
            if kind == "signal":
                delivered += 1
                continue
            trade_id = item[0]["tick_trade_id"]
            assert delivered >= trade_id // 7  # every signal up to the mark's tick came first


def test_an_api_without_progress_marks_is_sent_none_after_its_404() -> None:
    api = ApiStub(batch=True)
    with forwarding(api, progress_interval=0.001) as forwarder:
        for trade_id in range(1, 50):
            forwarder.progress("WINZ25", 1_000 + trade_id, trade_id, after=0)
            time.sleep(0.002)
        forwarder.submit(body(1))
        forwarder.submit(body(2))
        assert forwarder.flush(10.0)

        progress = [path for path, _ in api.requests if path.endswith("/progress")]
        assert progress == ["/api/v1/signals/progress"]
        assert [body["signal_id"] for body in api.bodies] == ["id-1", "id-2"]


def test_refused_marks_are_reported_a_few_times_not_every_20_ms() -> None:
    api = ApiStub(batch=True, progress=True, progress_status=422)
    reports: list[tuple[str, dict[str, Any]]] = []
    report = lambda event, details: reports.append((event, details))  # noqa: E731
    with forwarding(api, progress_interval=0.001, report=report) as forwarder:
        trade_id, deadline = 0, time.monotonic() + 30
        while len(api.requests) < 20 and time.monotonic() < deadline:  # the host goes on
            trade_id += 1
            forwarder.progress("WINZ25", 1_000 + trade_id, trade_id, after=0)
            time.sleep(0.001)
        forwarder.submit(body(1))
        assert forwarder.flush(10.0)

        refused = [details for event, details in reports if event == "refused"]
        assert [details["times"] for details in refused][:2] == [1, 10]
        assert len(refused) <= 3 < len(api.requests)
        assert "HTTP 422" in refused[0]["error"]
        assert [body["signal_id"] for body in api.bodies] == ["id-1"]  # signals go on
