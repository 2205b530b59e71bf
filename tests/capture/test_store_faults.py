"""The capture host with its PostgreSQL store cut away (a proxy the test cuts): health says so."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from adapters.clock import SystemClock
from adapters.eventstore import drop_schema, open_store
from tests.capture.factories import stored_trades, trade
from tests.capture.fakes import FakeFeed
from tests.capture.peer import Peer
from tests.capture.test_service import build
from tests.conftest import require_postgres
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    require_postgres()
    running = TcpProxy(("127.0.0.1", 5432)).start()
    yield running
    running.cut()


def test_capture_with_the_store_gone_reports_store_not_ok_while_trades_wait(
    proxy: TcpProxy,
) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/test?schema={schema}"
    app = open_store(url, SystemClock())  # live: batches are written by age
    peer = Peer().start()
    feed = FakeFeed()
    service = build(feed, app, peer.url)
    service.start()
    feed.connect()
    try:
        feed.trade(trade(1))
        proxy.cut()
        healthy = True
        for trade_id in range(2, 200):  # bounded: at most ~200 trades and 20 s
            feed.trade(trade(trade_id))
            healthy, report = service.health()
            if not healthy:
                break
            time.sleep(0.1)
        assert not healthy
        assert report["store"]["ok"] is False
        assert service.recorder.status().pending_trades > 0
        proxy.restore()
        assert service.close(drain_timeout=2)  # every admitted trade recorded once back
        assert [row.trade_id for row in stored_trades(app)] == list(range(1, trade_id + 1))
    finally:
        peer.stop()
        app.close()
        drop_schema(f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}")
