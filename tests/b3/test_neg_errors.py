"""Bad NEG input: each error names the file, the line and the field, and stores nothing."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.b3.errors import B3FileError
from adapters.b3.importer import FileFormat, import_file
from adapters.b3.neg_writer import NegRow, neg_text
from adapters.eventstore import open_store
from hosts.cli import COMMANDS
from hosts.importer import cli
from tests.b3.samples import SESSION, sample_rows
from tradingcore.ports.clock import ManualClock


def run_import(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def sample_lines() -> list[str]:
    return neg_text(SESSION, sample_rows()).splitlines()


def replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(";")
    fields[index] = value
    return ";".join(fields)


def bad_file(tmp_path: Path, change: Callable[[list[str]], list[str]]) -> Path:
    path = tmp_path / "NEG_BAD.TXT"
    path.write_text("\n".join(change(sample_lines())) + "\n", encoding="latin-1")
    return path


def stored_events(url: str) -> int:
    app = open_store(url, ManualClock())
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def on_line(number: int, index: int, value: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        lines[number - 1] = replace_field(lines[number - 1], index, value)
        return lines

    return change


BAD_LINES = [
    pytest.param(on_line(4, 3, " 000000000000.41x000"), 4, "TradePrice", id="price-not-number"),
    pytest.param(on_line(4, 3, " 000000000000.415000"), 4, "TradePrice", id="price-off-tick"),
    pytest.param(on_line(5, 3, "0.412345"), 5, "TradePrice", id="price-too-fine"),
    pytest.param(on_line(6, 4, "000000000000000000"), 6, "TradedQuantity", id="zero-quantity"),
    pytest.param(on_line(3, 5, "10:61:00.000"), 3, "TradeTime", id="bad-time"),
    pytest.param(on_line(7, 6, "3"), 7, "TradeIndicator", id="bad-indicator"),
    pytest.param(on_line(8, 10, "7"), 8, "AggressorBuyOrderIndicator", id="bad-aggressor"),
    pytest.param(on_line(9, 15, "2"), 9, "CrossTradeIndicator", id="bad-cross"),
    pytest.param(on_line(2, 0, "2015-11-27"), 2, "SessionDate", id="date-outside-header"),
    pytest.param(on_line(3, 1, "NOT A SYMBOL".ljust(50)), 3, "InstrumentSymbol", id="bad-symbol"),
    pytest.param(on_line(4, 2, "00000000x0"), 4, "TradeNumber", id="bad-trade-number"),
]


@pytest.mark.parametrize(("change", "line", "field"), BAD_LINES)
def test_import_with_unparseable_line_names_file_line_and_field(
    tmp_path, sqlite_url, change, line, field
):
    path = bad_file(tmp_path, change)
    app = open_store(sqlite_url, ManualClock())

    with pytest.raises(B3FileError) as raised:
        import_file(app, path)

    assert (raised.value.path, raised.value.line, raised.value.field) == (path, line, field)
    assert f"{path}, line {line}, field {field}: " in str(raised.value)
    app.close()
    assert stored_events(sqlite_url) == 0


def test_import_with_missing_column_names_the_line_and_layout(tmp_path, sqlite_url):
    path = bad_file(tmp_path, lambda lines: [*lines[:5], lines[5].rsplit(";", 1)[0], *lines[6:]])

    with pytest.raises(B3FileError, match=r"line 6, field layout: expected 18 fields"):
        import_file(open_store(sqlite_url, ManualClock()), path)
    assert stored_events(sqlite_url) == 0


def test_import_with_empty_line_inside_names_that_line(tmp_path, sqlite_url):
    path = bad_file(tmp_path, lambda lines: [*lines[:3], "", *lines[3:]])

    with pytest.raises(B3FileError, match=r"line 4, field layout"):
        import_file(open_store(sqlite_url, ManualClock()), path)
    assert stored_events(sqlite_url) == 0


def test_import_with_trailer_count_mismatch_says_truncated(tmp_path, sqlite_url):
    path = bad_file(tmp_path, lambda lines: [*lines[:4], *lines[5:]])

    with pytest.raises(B3FileError) as raised:
        import_file(open_store(sqlite_url, ManualClock()), path)

    assert raised.value.field == "trailer"
    assert "says the file has 10 lines" in str(raised.value)
    assert "has 9" in str(raised.value)
    assert stored_events(sqlite_url) == 0


def test_import_with_missing_trailer_says_truncated(tmp_path, sqlite_url):
    path = bad_file(tmp_path, lambda lines: lines[:-1])

    with pytest.raises(B3FileError, match=r"line 9, field trailer: .*truncated"):
        import_file(open_store(sqlite_url, ManualClock()), path)
    assert stored_events(sqlite_url) == 0


def test_import_with_wrong_layout_as_neg_names_the_header(tmp_path, sqlite_url):
    path = tmp_path / "trades.csv"
    path.write_text("Data;Preço;Quantidade\n26/11/2015 10:00:00;0,40;100\n", encoding="utf-8")

    with pytest.raises(B3FileError, match=r"line 1, field header: .*not a B3 NEG file"):
        import_file(open_store(sqlite_url, ManualClock()), path, file_format=FileFormat.NEG)
    assert stored_events(sqlite_url) == 0


def test_import_with_truncated_zip_names_the_archive(neg_file, tmp_path, sqlite_url):
    whole = neg_file(name="NEG.zip", zipped=True).read_bytes()
    path = tmp_path / "NEG_TRUNCATED.zip"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(
        B3FileError, match=r"NEG_TRUNCATED.zip, field archive: truncated or corrupt"
    ):
        import_file(open_store(sqlite_url, ManualClock()), path)
    assert stored_events(sqlite_url) == 0


def test_import_with_unknown_future_root_asks_for_a_tick(neg_file, sqlite_url):
    path = neg_file([NegRow("DI1F27", 10, Decimal("13.125"), 5, "09:00:00.000")])

    with pytest.raises(B3FileError, match=r"line 2, field InstrumentSymbol: .*--tick DI1F27=SIZE"):
        import_file(open_store(sqlite_url, ManualClock()), path)
    assert stored_events(sqlite_url) == 0


def test_cli_with_bad_file_exits_non_zero_and_stores_nothing(tmp_path, sqlite_url, capsys):
    path = bad_file(tmp_path, on_line(4, 3, " 000000000000.41x000"))

    code = run_import(str(path), "--store", sqlite_url, "--log-dir", str(tmp_path / "logs"))

    assert code == 1
    assert f"FAILED {path}, line 4, field TradePrice" in capsys.readouterr().err
    assert stored_events(sqlite_url) == 0


def test_tradingcore_command_table_routes_import_to_the_importer_host():
    assert COMMANDS["import"][0] == cli.__name__


def big_session_lines(count: int) -> list[str]:
    rows = [
        NegRow("PETRL80", number * 10, Decimal("0.40"), 100, f"1{number // 3600 % 6}:00:00.000")
        for number in range(1, count + 1)
    ]
    return neg_text(SESSION, rows).splitlines()


@pytest.mark.parametrize(
    ("line", "index", "value", "field"),
    [
        (11_000, 5, "1O:00:00.000", "TradeTime"),
        (9_001, 17, "00000072;extra", "layout"),
        (7_777, 3, "0.401", "TradePrice"),
    ],
)
def test_import_with_bad_line_deep_in_a_big_file_names_that_line(
    tmp_path, line, index, value, field
):
    lines = big_session_lines(12_000)
    lines[line - 1] = replace_field(lines[line - 1], index, value)
    path = tmp_path / "NEG_BIG.TXT"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")

    with pytest.raises(B3FileError) as raised:
        import_file(open_store("memory://", ManualClock()), path)

    assert (raised.value.line, raised.value.field) == (line, field)


def test_cli_with_dry_run_checks_the_file_and_stores_nothing(
    neg_file, tmp_path, sqlite_url, capsys
):
    code = run_import(
        str(neg_file()), "--store", sqlite_url, "--dry-run", "--log-dir", str(tmp_path / "logs")
    )

    assert code == 0
    assert "CHECKED" in capsys.readouterr().out
    assert stored_events(sqlite_url) == 0


@pytest.mark.parametrize(
    "option",
    [("--batch-size", "0"), ("--band", "-1"), ("--band", "wide"), ("--tick", "WDO")],
)
def test_cli_with_bad_option_exits_with_a_usage_error(option, capsys):
    with pytest.raises(SystemExit) as raised:
        run_import("NEG.TXT", *option)

    assert raised.value.code == 2
    assert option[0] in capsys.readouterr().err


def test_cli_with_missing_file_reports_it_and_exits_non_zero(tmp_path, sqlite_url, capsys):
    code = run_import(
        str(tmp_path / "absent.TXT"), "--store", sqlite_url, "--log-dir", str(tmp_path)
    )

    assert code == 1
    assert "absent.TXT: cannot be read" in capsys.readouterr().err
