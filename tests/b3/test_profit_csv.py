"""Profit times-and-trades CSV exports: pt-BR and plain formats, symbols, bad rows."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.b3.errors import B3FileError
from adapters.b3.importer import FileFormat, detect_format, import_file
from adapters.b3.instruments import TickSizes
from adapters.b3.profit_csv import read_profit_csv
from adapters.eventstore import open_store
from hosts.importer.cli import add_arguments, run
from tradingcore.domain.tape import TradesRecorded, session_tape_id
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock

PT_BR = """\
Data;Corretora compradora;Preço;Quantidade;Corretora vendedora;Agressor
06/10/2025 10:00:02,350;XP;127.860,00;3;BTG;Vendedor
06/10/2025 10:00:01.120;Genial;127.865,00;1;XP;Comprador
06/10/2025 10:00:01.120;Itaú;127.865,00;2;XP;Direto
06/10/2025 09:00:00.000;Leilão;127.850,00;1.000;Leilão;Leilão
"""


def run_import(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args(argv))


def write(tmp_path: Path, text: str, name: str = "WINV25_times_and_trades.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def epoch_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def test_read_pt_br_export_newest_first_restores_time_order(tmp_path):
    table = read_profit_csv(write(tmp_path, PT_BR), TickSizes())

    assert table.symbols == ["WINV25"]
    assert table.price_units.tolist() == [
        1_278_500_000,
        1_278_650_000,
        1_278_650_000,
        1_278_600_000,
    ]
    assert table.volumes.tolist() == [1000, 2, 1, 3]
    assert table.trade_ids.tolist() == [1, 2, 3, 4]
    assert table.line_numbers.tolist() == [5, 4, 3, 2]


def test_read_pt_br_export_maps_aggressors_and_direct_trades_as_cross(tmp_path):
    table = read_profit_csv(write(tmp_path, PT_BR), TickSizes())

    assert "".join("NBS"[code] for code in table.aggressors.tolist()) == "NNBS"
    assert table.flags.tolist() == [0, 2, 0, 0]


def test_read_export_converts_sao_paulo_time_to_utc(tmp_path):
    table = read_profit_csv(write(tmp_path, PT_BR), TickSizes())

    assert table.timestamps_ms[0] == epoch_ms(2025, 10, 6, 12, 0, 0)
    assert table.timestamps_ms[-1] == epoch_ms(2025, 10, 6, 13, 0, 2) + 350


def test_read_export_with_dot_decimals_commas_and_accentless_header(tmp_path):
    text = (
        "Ativo,Data,Hora,Preco,Qtd,Agressor,Negocio\n"
        "PETR4,2025-10-06,10:00:00.5,38.12,100,comprador,17\n"
        "PETR4,2025-10-06,10:00:01,38.13,200,VENDEDOR,18\n"
    )

    table = read_profit_csv(write(tmp_path, text, name="export.csv"), TickSizes())

    assert table.symbols == ["PETR4"]
    assert table.price_units.tolist() == [381_200, 381_300]
    assert table.trade_ids.tolist() == [17, 18]
    assert "".join("NBS"[code] for code in table.aggressors.tolist()) == "BS"


def test_read_cp1252_export_with_symbol_option(tmp_path):
    path = write(tmp_path, PT_BR, name="export.csv", encoding="cp1252")

    table = read_profit_csv(path, TickSizes(), symbol="WINZ25")

    assert table.symbols == ["WINZ25"]
    assert len(table) == 4


def test_read_export_without_any_symbol_asks_for_one(tmp_path):
    with pytest.raises(B3FileError, match=r"line 2, field Ativo: no symbol: pass --symbol"):
        read_profit_csv(write(tmp_path, PT_BR, name="export.csv"), TickSizes())


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("127.860,00", "127.861,00", 2, "Preço"),
        ("127.860,00", "abc", 2, "Preço"),
        (";3;", ";0;", 2, "Quantidade"),
        ("06/10/2025 10:00:02,350", "2025/10/06 10:00", 2, "Data"),
        ("Vendedor", "Talvez", 2, "Agressor"),
        ("127.860,00", "127860.5", 2, "Preço"),
    ],
)
def test_read_export_with_bad_cell_names_line_and_field(tmp_path, old, new, line, field):
    path = write(tmp_path, PT_BR.replace(old, new, 1))

    with pytest.raises(B3FileError) as raised:
        read_profit_csv(path, TickSizes())

    assert (raised.value.line, raised.value.field) == (line, field)


def test_read_export_without_price_column_names_the_header(tmp_path):
    path = write(tmp_path, "Data;Quantidade\n06/10/2025 10:00:00;1\n")

    with pytest.raises(B3FileError, match=r"line 1, field header: not a Profit .* lacks price"):
        read_profit_csv(path, TickSizes())


def test_detect_format_tells_csv_from_neg(tmp_path, neg_file):
    assert detect_format(write(tmp_path, PT_BR)) is FileFormat.PROFIT_CSV
    assert detect_format(neg_file()) is FileFormat.NEG


def test_cli_imports_export_into_the_sqlite_store(tmp_path, sqlite_url, capsys):
    path = write(tmp_path, PT_BR)

    code = run_import(
        str(path), "--store", sqlite_url, "--format", "profit-csv", "--log-dir", str(tmp_path)
    )

    assert code == 0
    assert "OK" in capsys.readouterr().out
    app = open_store(sqlite_url, ManualClock())
    events = list(app.events.get(session_tape_id(Symbol("WINV25"), date(2025, 10, 6))))
    assert [len(event) for event in events if isinstance(event, TradesRecorded)] == [4]


def test_import_export_twice_is_skipped_as_already_imported(tmp_path, memory_app):
    path = write(tmp_path, PT_BR)
    import_file(memory_app, path)

    assert import_file(memory_app, path).already_imported


def test_cli_refuses_a_file_with_a_trade_stamped_in_2126_naming_its_line(
    tmp_path, sqlite_url, capsys
):
    """A B3 file holds past trades: one stamped in 2126 would hold the API's feed clock there."""
    text = PT_BR.replace("06/10/2025 10:00:01.120;Itaú", "06/10/2126 10:00:01.120;Itaú")
    path = write(tmp_path, text)

    code = run_import(
        str(path), "--store", sqlite_url, "--format", "profit-csv", "--log-dir", str(tmp_path)
    )

    assert code == 1
    error = capsys.readouterr().err
    assert f"FAILED {path}, line 4" in error and "timestamp_implausible" in error
    assert not (tmp_path / sqlite_url.rsplit("/", 1)[-1]).exists()  # nothing stored at all
