"""Recordings: portable, versioned, checksummed; a replay rebuilds equal aggregates."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgpack
import pytest

from adapters.eventstore import open_store
from adapters.recordings import (
    MAGIC,
    RecordingError,
    export_recording,
    import_recording,
    read_recording,
    verify_recording,
)
from tests.core.factories import submit_order
from tradingcore.application.trading import TradingApplication, state_hash
from tradingcore.domain.order import Order
from tradingcore.domain.position import Position
from tradingcore.domain.values import Side
from tradingcore.ports.clock import ManualClock


def trade_some(app: TradingApplication) -> list[Order]:
    orders = []
    for index, side in enumerate([Side.BUY, Side.BUY, Side.SELL]):
        price = 127_850 + 5 * index
        order = app.submit_order(submit_order(f"r-{index}", side=side, quantity=2, price=price))
        app.accept_order(order.id, f"v-{index}")
        order, _ = app.fill_order(order.id, 100 + index, Decimal(127_850 + 5 * index), 2)
        orders.append(order)
    return orders


def test_replayed_recording_rebuilds_aggregates_with_equal_state_hashes(
    store_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    source = open_store(store_url, clock)
    orders = trade_some(source)
    info = export_recording(source, tmp_path / "session.tcrec")
    target = open_store(f"sqlite:///{tmp_path / 'replay.sqlite'}", ManualClock())
    assert import_recording(target, info.path) == info.events
    for order in orders:
        assert state_hash(target.load_fresh(Order, order.id)) == state_hash(order)
    position = source.position("acct", orders[0].symbol)
    assert state_hash(target.load_fresh(Position, position.id)) == state_hash(position)


def test_export_of_the_same_store_twice_gives_identical_bytes(
    sqlite_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    app = open_store(sqlite_url, clock)
    trade_some(app)
    first = export_recording(app, tmp_path / "a.tcrec")
    second = export_recording(app, tmp_path / "b.tcrec")
    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.fixture
def recording(sqlite_url: str, tmp_path: Path, clock: ManualClock) -> Path:
    app = open_store(sqlite_url, clock)
    trade_some(app)
    return export_recording(app, tmp_path / "good.tcrec").path


def corrupt(path: Path, data: bytes) -> Path:
    broken = path.with_name("broken.tcrec")
    broken.write_bytes(data)
    return broken


def test_verify_with_truncated_file_says_truncated(recording: Path) -> None:
    broken = corrupt(recording, recording.read_bytes()[:-20])
    with pytest.raises(RecordingError, match="truncated"):
        verify_recording(broken)


def test_verify_with_flipped_byte_says_checksum_or_corrupt(recording: Path) -> None:
    data = bytearray(recording.read_bytes())
    data[len(data) // 2] ^= 0x01
    with pytest.raises(RecordingError, match=r"checksum mismatch|corrupt|malformed|trailer"):
        verify_recording(corrupt(recording, bytes(data)))


def test_verify_with_other_file_says_not_a_recording(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="bad magic bytes"):
        verify_recording(corrupt(tmp_path / "x", b"hello world"))


def test_verify_with_future_format_version_names_the_version(tmp_path: Path) -> None:
    header = msgpack.packb({"format": "tradingcore.recording", "version": 9, "codec": "msgpack-v1"})
    with pytest.raises(RecordingError, match="format version 9 is not supported"):
        verify_recording(corrupt(tmp_path / "x", MAGIC + header))


def test_import_of_broken_recording_appends_nothing(
    recording: Path, tmp_path: Path, clock: ManualClock
) -> None:
    target = open_store(f"sqlite:///{tmp_path / 't.sqlite'}", clock)
    broken = corrupt(recording, recording.read_bytes()[:-20])
    with pytest.raises(RecordingError):
        import_recording(target, broken)
    assert (target.recorder.max_notification_id() or 0) == 0


def test_read_recording_yields_events_in_notification_order(recording: Path) -> None:
    ids = [notification_id for notification_id, _ in read_recording(recording)]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
