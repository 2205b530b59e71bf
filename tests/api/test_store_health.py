"""The store's health after a failed write: only a write after the failure takes it back."""

from __future__ import annotations

from hosts.api.store_health import StoreHealth


class Store:
    """A store whose last notification id the test sets (what the probe reads)."""

    def __init__(self) -> None:
        self.last = 10

    def probe(self) -> int:
        return self.last


def test_a_probe_that_sees_our_own_earlier_write_does_not_take_a_failure_back() -> None:
    """CI saw /health 200 right after an order got 503 on a full disk: the probe had last read
    id 10, our previous order stored 11-13, the next write failed, and the next probe, seeing
    13 > 10, took the failure back although nothing was stored after it."""
    store = Store()
    health = StoreHealth(store.probe, interval=3_600)
    health.start()  # probes once: 10
    try:
        store.last = 13
        health.written(13)  # our order, stored; no probe since
        health.write_failed(OSError("database or disk is full"))
        assert health.failure() is not None
        health._probe_once()  # sees 13: our own write from before the failure
        failure = health.failure()
        assert failure is not None and "disk is full" in failure
        store.last = 14  # something was stored after the failure: the store takes writes
        health._probe_once()
        assert health.failure() is None
    finally:
        health.stop()
