"""The API host's JSONL logs and audit trail are buffered off the request path, never lost."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.jsonlog import AuditTrail, DailyJsonlWriter, configure_logging, iso_ms

DAY = datetime(2025, 1, 4, 23, 59, 59, 999_000, tzinfo=UTC)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_relative_log_folder_stays_the_one_named_at_start_after_a_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "start").mkdir()
    (tmp_path / "later").mkdir()
    monkeypatch.chdir(tmp_path / "start")
    writer = DailyJsonlWriter(Path("logs"))
    monkeypatch.chdir(tmp_path / "later")

    writer.write({"n": 1}, DAY)
    writer.close()

    assert lines(tmp_path / "start" / "logs" / "2025-01-04.jsonl") == [{"n": 1}]
    assert not (tmp_path / "later" / "logs").exists()


def test_buffered_lines_are_written_out_in_order_on_close(tmp_path: Path) -> None:
    writer = DailyJsonlWriter(tmp_path, flush_interval=60)
    for number in range(100):
        writer.write({"n": number}, DAY)

    before = lines(tmp_path / "2025-01-04.jsonl")
    writer.close()

    assert before == []
    assert lines(tmp_path / "2025-01-04.jsonl") == [{"n": number} for number in range(100)]


def test_buffered_lines_reach_the_file_within_the_flush_interval(tmp_path: Path) -> None:
    writer = DailyJsonlWriter(tmp_path, flush_interval=0.05)
    writer.write({"n": 1}, DAY)
    deadline = time.monotonic() + 10
    while not lines(tmp_path / "2025-01-04.jsonl") and time.monotonic() < deadline:
        time.sleep(0.01)

    written = lines(tmp_path / "2025-01-04.jsonl")
    writer.close()

    assert written == [{"n": 1}]


def test_buffered_lines_of_two_days_go_to_their_own_files(tmp_path: Path) -> None:
    writer = DailyJsonlWriter(tmp_path, flush_interval=60)
    writer.write({"n": 1}, DAY)
    writer.write({"n": 2}, DAY + timedelta(milliseconds=1))
    writer.write({"n": 3}, DAY)  # a late line goes to its own day's file, after the others
    writer.close()

    assert lines(tmp_path / "2025-01-04.jsonl") == [{"n": 1}, {"n": 3}]
    assert lines(tmp_path / "2025-01-05.jsonl") == [{"n": 2}]


def test_unbuffered_writer_flushes_every_line_at_once(tmp_path: Path) -> None:
    writer = DailyJsonlWriter(tmp_path)
    writer.write({"n": 1}, DAY)

    assert lines(tmp_path / "2025-01-04.jsonl") == [{"n": 1}]
    writer.close()


def test_buffered_logger_and_audit_trail_keep_the_spec_format(tmp_path: Path) -> None:
    logger = configure_logging("buffered", tmp_path, flush_interval=60)
    audit = AuditTrail(tmp_path, flush_interval=60)
    logger.info("Order sent", extra={"context": {"order_id": "x"}})
    audit.record(actor="alice", action="ORDER_EXECUTED", at=DAY, details={}, result="SUCCESS")
    for handler in logger.handlers:
        handler.close()
    audit.close()

    [log] = [entry for path in (tmp_path / "buffered").glob("*.jsonl") for entry in lines(path)]
    [entry] = lines(tmp_path / "audit" / "2025-01-04.jsonl")
    assert set(log) == {"timestamp", "level", "service", "message", "context"}
    assert log["context"] == {"order_id": "x"} and log["service"] == "buffered"
    assert entry["timestamp"] == "2025-01-04T23:59:59.999Z" and entry["reason"] == ""


def test_iso_ms_is_utc_with_milliseconds_and_a_z() -> None:
    sao_paulo = datetime(2025, 1, 4, 7, 30, 15, 123_999).astimezone(UTC)
    assert iso_ms(datetime(2025, 1, 4, 10, 30, 15, 123_456, tzinfo=UTC)) == (
        "2025-01-04T10:30:15.123Z"
    )
    assert iso_ms(datetime(2025, 1, 4, 10, 30, 15, tzinfo=UTC)) == "2025-01-04T10:30:15.000Z"
    assert iso_ms(sao_paulo).endswith(".123Z")


def test_flush_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flush interval"):
        DailyJsonlWriter(tmp_path, flush_interval=0)


def test_buffered_lines_keep_flowing_after_logging_config_closed_the_handler(
    tmp_path: Path,
) -> None:
    import logging.config

    logger = configure_logging("svc-dictconfig", tmp_path, flush_interval=0.05)
    # What uvicorn does at start: dictConfig closes every handler that exists, ours included,
    # while the logger keeps it.
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    logger.info("after the reconfiguration")

    deadline = time.monotonic() + 10
    while not list((tmp_path / "svc-dictconfig").glob("*.jsonl")) or not [
        line for path in (tmp_path / "svc-dictconfig").glob("*.jsonl") for line in lines(path)
    ]:
        assert time.monotonic() < deadline, "the line waited in memory"
        time.sleep(0.02)
    for handler in logger.handlers:
        handler.close()
