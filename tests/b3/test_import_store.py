"""Importing into real stores: tapes and batches, atomicity, re-imports, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from adapters.b3.errors import B3FileError
from adapters.b3.importer import import_file
from adapters.b3.neg_writer import NegRow
from adapters.eventstore import open_store
from adapters.recordings import export_recording, verify_recording
from tests.b3.conftest import NegFile
from tests.b3.samples import SESSION
from tradingcore.domain.tape import MarketTape, TradesRecorded, session_tape_id
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock


def tape_of(app, ticker: str, session=SESSION) -> MarketTape:
    return app.load_fresh(MarketTape, session_tape_id(Symbol(ticker), session))


def recorded(app, ticker: str) -> list[TradesRecorded]:
    events = app.events.get(session_tape_id(Symbol(ticker), SESSION))
    return [event for event in events if isinstance(event, TradesRecorded)]


def test_import_with_sample_session_records_one_tape_per_symbol_in_time_order(
    app, neg_file: NegFile
):
    outcome = import_file(app, neg_file())

    assert (outcome.trades, len(outcome.tapes), outcome.cancelled, outcome.cross) == (8, 2, 1, 1)
    batches = recorded(app, "PETRL80")
    assert [batch.trade_ids for batch in batches] == [(10, 20, 40, 30, 50)]
    assert batches[0].aggressors == "NNBSB"
    assert batches[0].flags == (0, 0, 0, 0, 1)
    assert tape_of(app, "VALEX17").trade_count == 3


def test_import_with_equal_times_orders_by_trade_number(memory_app, neg_file: NegFile):
    rows = [
        NegRow("PETRL80", 30, Decimal("0.40"), 100, "10:00:00.000"),
        NegRow("PETRL80", 10, Decimal("0.40"), 100, "10:00:00.000"),
        NegRow("PETRL80", 20, Decimal("0.40"), 100, "10:00:00.000"),
    ]

    import_file(memory_app, neg_file(rows))

    assert recorded(memory_app, "PETRL80")[0].trade_ids == (10, 20, 30)


def test_import_with_small_batch_size_splits_tape_into_batches(memory_app, neg_file: NegFile):
    import_file(memory_app, neg_file(), batch_size=2)

    batches = recorded(memory_app, "PETRL80")
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [batch.first_sequence for batch in batches] == [0, 2, 4]


def test_import_uses_trade_times_for_event_times_not_the_clock(memory_app, neg_file: NegFile):
    import_file(memory_app, neg_file())

    (batch,) = recorded(memory_app, "VALEX17")
    assert batch.timestamp.isoformat() == "2015-11-26T19:18:00+00:00"


def test_import_same_file_twice_skips_it_and_writes_nothing(sqlite_url, neg_file: NegFile):
    app = open_store(sqlite_url, ManualClock())
    import_file(app, neg_file())
    before = app.recorder.max_notification_id()

    again = import_file(app, neg_file())

    assert again.already_imported
    assert again.trades == 8
    assert app.recorder.max_notification_id() == before


def test_import_with_partly_overlapping_file_fails_and_writes_nothing(
    sqlite_url, neg_file: NegFile
):
    app = open_store(sqlite_url, ManualClock())
    import_file(app, neg_file([NegRow("PETRL80", 10, Decimal("0.40"), 100, "10:00:00.000")]))
    before = app.recorder.max_notification_id()

    with pytest.raises(B3FileError, match=r"line 2, field TradeNumber: trade 10 of PETRL80"):
        import_file(app, neg_file(name="second.TXT"))

    assert app.recorder.max_notification_id() == before
    assert not app.exists(session_tape_id(Symbol("VALEX17"), SESSION))


def test_import_with_later_file_of_same_session_appends_to_the_tape(memory_app, neg_file: NegFile):
    import_file(memory_app, neg_file(name="a.TXT"))
    later = [NegRow("PETRL80", 60, Decimal("0.44"), 100, "16:00:00.000")]

    import_file(memory_app, neg_file(later, name="b.TXT"))

    assert tape_of(memory_app, "PETRL80").trade_count == 6


def test_import_with_earlier_file_than_the_stored_tape_fails_on_time_order(
    memory_app, neg_file: NegFile
):
    import_file(memory_app, neg_file(name="a.TXT"))
    earlier = [NegRow("PETRL80", 5, Decimal("0.40"), 100, "09:59:00.000")]

    with pytest.raises(B3FileError, match=r"line 2: PETRL80 on 2015-11-26: .*before the previous"):
        import_file(memory_app, neg_file(earlier, name="b.TXT"))


def test_import_with_band_rejects_a_price_far_from_the_first(memory_app, neg_file: NegFile):
    rows = [
        NegRow("PETRL80", 10, Decimal("0.40"), 100, "10:00:00.000"),
        NegRow("PETRL80", 20, Decimal("0.80"), 100, "10:00:01.000"),
    ]

    with pytest.raises(B3FileError, match=r"line 3: .*outside the band"):
        import_file(memory_app, neg_file(rows), band_fraction=Decimal("0.2"))
    assert memory_app.recorder.max_notification_id() in (None, 0)


def test_import_into_two_empty_stores_gives_identical_stored_events(tmp_path, neg_file: NegFile):
    states = []
    for name in ("one", "two"):
        app = open_store(f"sqlite:///{tmp_path / name}.sqlite", ManualClock())
        import_file(app, neg_file(zipped=True, name="NEG.zip"))
        notifications = app.recorder.select_notifications(start=1, limit=100)
        states.append(
            [(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
        )
        app.close()

    assert states[0] == states[1]
    assert len(states[0]) == 4


def test_import_then_export_gives_a_recording_that_verifies(app, neg_file: NegFile, tmp_path):
    import_file(app, neg_file())

    info = export_recording(app, tmp_path / "b3.tcrec")

    assert verify_recording(tmp_path / "b3.tcrec").events == info.events == 4


def test_cli_with_good_and_bad_files_imports_the_good_and_reports_both(
    tmp_path, sqlite_url, neg_file: NegFile
):
    good = neg_file(name="good.TXT")
    bad = tmp_path / "bad.TXT"
    bad.write_text(good.read_text().replace("0.410000", "0.41x000"))

    done = subprocess.run(
        [
            *(sys.executable, "-m", "hosts.importer", str(bad), str(good)),
            *("--store", sqlite_url, "--log-dir", str(tmp_path / "logs")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert f"FAILED {bad}, line 4, field TradePrice" in done.stderr
    assert f"OK {good} (neg): 8 trades, 2 tapes, 1 cancelled, 1 cross" in done.stdout
    assert "1 of 2 files imported" in done.stdout
    app = open_store(sqlite_url, ManualClock())
    assert tape_of(app, "PETRL80").trade_count == 5
    (log,) = (tmp_path / "logs" / "importer").glob("*.jsonl")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(entry["level"], entry["message"]) for entry in entries] == [
        ("ERROR", "Import failed"),
        ("INFO", "File imported"),
    ]
    assert entries[0]["context"]["line"] == 4


def derivatives_rows() -> list[NegRow]:
    """A NEG_BMF-like session: WIN and WDO among series our Symbol rules do not know."""
    return [
        NegRow("WINZ15", 10, Decimal("47850"), 5, "09:00:00.000"),
        NegRow("DOLF16C004000", 10, Decimal("12.345"), 1, "09:00:01.000"),
        NegRow("WDOF16", 10, Decimal("3855.5"), 2, "09:00:02.000"),
        NegRow("DI1F27", 10, Decimal("13.125"), 5, "09:00:03.000"),
        NegRow("WINZ15", 20, Decimal("47855"), 1, "09:00:04.000"),
    ]


def test_import_with_only_keeps_the_named_roots_and_skips_unknown_series(
    memory_app, neg_file: NegFile
):
    outcome = import_file(memory_app, neg_file(derivatives_rows()), only=["WIN", "WDO"])

    assert sorted((tape.symbol, tape.trades) for tape in outcome.tapes) == [
        ("WDOF16", 1),
        ("WINZ15", 2),
    ]
    assert tape_of(memory_app, "WINZ15").trade_count == 2


def test_import_without_only_fails_on_the_first_unknown_series(memory_app, neg_file: NegFile):
    with pytest.raises(B3FileError, match=r"line 3, field InstrumentSymbol: 'DOLF16C004000'"):
        import_file(memory_app, neg_file(derivatives_rows()))


def test_import_with_only_still_checks_the_layout_of_other_lines(
    memory_app, neg_file: NegFile, tmp_path
):
    good = neg_file(derivatives_rows())
    lines = good.read_text().splitlines()
    lines[2] = lines[2].replace(";09:00:01.000;", ";09:0x:01.000;")
    bad = tmp_path / "bad.TXT"
    bad.write_text("\n".join(lines) + "\n")

    with pytest.raises(B3FileError, match=r"line 3, field TradeTime"):
        import_file(memory_app, bad, only=["WIN"])


@pytest.mark.postgres
def test_cli_never_prints_or_logs_the_store_password(tmp_path, postgres_url, neg_file: NegFile):
    secret = "s3cret-" + uuid.uuid4().hex[:8]  # trust auth on the test server accepts any
    url = postgres_url.replace("postgres@", f"postgres:{secret}@", 1)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "hosts.importer", str(neg_file(name="good.TXT"))),
            *("--store", url, "--log-dir", str(tmp_path / "logs")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 of 1 files imported into postgresql://postgres:***@127.0.0.1" in done.stdout
    (log,) = (tmp_path / "logs" / "importer").glob("*.jsonl")
    assert "postgres:***@" in log.read_text()
    assert secret not in done.stdout + done.stderr + log.read_text()
