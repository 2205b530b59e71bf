"""Portable, versioned, checksummed recordings of event streams.

Layout (format version 1): the magic bytes `TCREC1\\n`, then a msgpack stream of
a header map, one array per stored event `[notification_id, originator_id (16 bytes),
originator_version, topic, state]`, and a trailer map holding the event count and the
SHA-256 of every byte before the trailer. Event state is kept exactly as stored (the
store's msgpack codec), so an import reproduces the store byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgpack
from eventsourcing.persistence import StoredEvent

from tradingcore.application.topics import UnknownEventTopic, resolve_event_topic
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.tape import TradesRecorded
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time

MAGIC: Final = b"TCREC1\n"
FORMAT: Final = "tradingcore.recording"
VERSION: Final = 1
CODEC: Final = "msgpack-v1"
PAGE: Final = 5_000


class RecordingError(Exception):
    """A recording is unreadable: wrong format, truncated, corrupt or from an unknown codec."""


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    path: Path
    events: int
    sha256: str
    header: dict[str, Any]


def export_recording(
    app: TradingApplication,
    path: Path,
    *,
    start: int = 1,
    stop: int | None = None,
    description: str = "",
) -> RecordingInfo:
    """Write the store's events (notification ids start..stop) to a recording file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    digest = hashlib.sha256()
    count = 0
    header = {"format": FORMAT, "version": VERSION, "codec": CODEC, "description": description}
    with temporary.open("wb") as file:

        def write(data: bytes) -> None:
            digest.update(data)
            file.write(data)

        write(MAGIC)
        write(msgpack.packb(header))
        position = start
        while True:
            notifications = app.recorder.select_notifications(
                start=position, limit=PAGE, stop=stop, inclusive_of_start=True
            )
            if not notifications:
                break
            for item in notifications:
                write(
                    msgpack.packb(
                        [
                            item.id,
                            _id_bytes(item.originator_id),
                            item.originator_version,
                            item.topic,
                            item.state,
                        ]
                    )
                )
                count += 1
            position = notifications[-1].id + 1
            if stop is not None and position > stop:
                break
        trailer = {"end": True, "events": count, "sha256": digest.hexdigest()}
        file.write(msgpack.packb(trailer))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    return RecordingInfo(path, count, str(trailer["sha256"]), header)


def _id_bytes(originator_id: uuid.UUID | str) -> bytes:
    return (
        originator_id.bytes
        if isinstance(originator_id, uuid.UUID)
        else uuid.UUID(originator_id).bytes
    )


def read_recording(path: Path) -> Iterator[tuple[int, StoredEvent]]:
    """Yield (notification id, stored event) after verifying the whole file's checksum."""
    _, records = _load(Path(path))
    for notification_id, originator_id, version, topic, state in records:
        yield notification_id, StoredEvent(uuid.UUID(bytes=originator_id), version, topic, state)


def _check_topics(path: Path, records: list[list[Any]]) -> None:
    """Refuse a recording with an event that is not one of ours (its topic is never imported)."""
    for notification_id, originator_id, version, topic, _ in records:
        try:
            resolve_event_topic(str(topic))
        except UnknownEventTopic:
            raise RecordingError(
                f"recording {path}: the event at notification {notification_id} (aggregate "
                f"{uuid.UUID(bytes=originator_id)} version {version}) has topic {topic!r}, "
                "not one of tradingcore's event classes; nothing imported"
            ) from None


def verify_recording(path: Path) -> RecordingInfo:
    """Check a recording's format, codec, completeness, checksum and event topics; raise
    RecordingError."""
    info, records = _load(Path(path))
    _check_topics(Path(path), records)
    return info


def _load(path: Path) -> tuple[RecordingInfo, list[list[Any]]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RecordingError(f"recording {path}: cannot read it ({error.strerror})") from error
    if not data.startswith(MAGIC):
        raise RecordingError(f"recording {path}: bad magic bytes, not a tradingcore recording")
    unpacker = msgpack.Unpacker(raw=False, use_list=True, max_buffer_size=len(data) + 1)
    unpacker.feed(data[len(MAGIC) :])
    header: dict[str, Any] | None = None
    records: list[list[Any]] = []
    offset = len(MAGIC)
    try:
        for record in unpacker:
            if header is None:
                if not isinstance(record, dict):
                    raise RecordingError(f"recording {path}: the header is missing")
                header = record
                _check_header(path, header)
            elif isinstance(record, dict):
                return _finish(path, data, offset, unpacker, header, records, record), records
            elif isinstance(record, list) and len(record) == 5:
                records.append(record)
            else:
                raise RecordingError(
                    f"recording {path}: event record {len(records) + 1} at byte {offset} "
                    "is malformed"
                )
            offset = len(MAGIC) + unpacker.tell()
    except (msgpack.UnpackException, ValueError) as error:
        raise RecordingError(f"recording {path}: corrupt data at byte {offset}: {error}") from error
    raise RecordingError(f"recording {path}: truncated (no trailer after {len(records)} events)")


def _finish(
    path: Path,
    data: bytes,
    offset: int,
    unpacker: msgpack.Unpacker,
    header: dict[str, Any],
    records: list[list[Any]],
    trailer: dict[str, Any],
) -> RecordingInfo:
    if not trailer.get("end"):
        raise RecordingError(f"recording {path}: unexpected map at byte {offset}")
    if trailer.get("events") != len(records):
        raise RecordingError(
            f"recording {path}: trailer says {trailer.get('events')} events, "
            f"the file holds {len(records)}"
        )
    digest = hashlib.sha256(data[:offset]).hexdigest()
    if trailer.get("sha256") != digest:
        raise RecordingError(f"recording {path}: checksum mismatch, the file is corrupt")
    if len(MAGIC) + unpacker.tell() != len(data):
        raise RecordingError(f"recording {path}: unexpected data after the trailer")
    return RecordingInfo(path, len(records), digest, header)


def _check_header(path: Path, header: dict[str, Any]) -> None:
    if header.get("format") != FORMAT:
        raise RecordingError(f"recording {path}: not a tradingcore recording")
    if header.get("version") != VERSION:
        raise RecordingError(
            f"recording {path}: format version {header.get('version')} is not supported "
            f"(this build reads version {VERSION})"
        )
    if header.get("codec") != CODEC:
        raise RecordingError(f"recording {path}: unknown codec {header.get('codec')!r}")


def _check_trade_times(app: TradingApplication, path: Path, records: list[list[Any]]) -> None:
    """Refuse a recording with a trade stamped implausibly far ahead of this host's clock: a
    store an older version filled may hold one, and it would hold a feed clock in that year."""
    wall_ms = time.time_ns() // 1_000_000
    for notification_id, originator_id, version, topic, state in records:
        if not str(topic).endswith(":TradesRecorded"):
            continue
        stored = StoredEvent(uuid.UUID(bytes=originator_id), version, topic, state)
        event = app.mapper.to_domain_event(stored)
        if not isinstance(event, TradesRecorded) or not event.timestamps_ms:
            continue
        implausible = implausible_time(max(event.timestamps_ms), wall_ms)
        if implausible is not None:
            raise RecordingError(
                f"recording {path}: the trades of {event.symbol.ticker} at notification "
                f"{notification_id}: {TIMESTAMP_IMPLAUSIBLE}: {implausible}; nothing imported"
            )


def import_recording(app: TradingApplication, path: Path) -> int:
    """Append a recording's events to a store atomically; return how many were inserted."""
    _, records = _load(Path(path))
    _check_topics(Path(path), records)
    _check_trade_times(app, Path(path), records)
    events = [
        StoredEvent(uuid.UUID(bytes=originator_id), version, topic, state)
        for _, originator_id, version, topic, state in records
    ]
    if events:
        app.recorder.insert_events(events)
    return len(events)
