"""The commands end to end, each in a real subprocess: project, sql, verify."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from adapters.eventstore import open_store
from tradingcore.ports.clock import ManualClock

from .helpers import populate

MODULES = {
    "project": "hosts.projector.cli",
    "sql": "hosts.projector.sql_cli",
    "verify": "hosts.projector.verify_cli",
}


def tradingcore(command: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command's module directly: `tradingcore` itself imports every host (slow start)."""
    return subprocess.run(
        [sys.executable, "-m", MODULES[command], *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with two sessions, projected once by `tradingcore project`."""
    directory = tmp_path_factory.mktemp("cli")
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    app = open_store(f"sqlite:///{directory / 'events.sqlite'}", clock)
    populate(app, clock, trades=600, signal_every=60)
    app.close()
    result = tradingcore(
        "project", "--store", "sqlite:///events.sqlite", "--output", "parquet",
        "--log-dir", "logs", cwd=directory,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "projected notifications 1.." in result.stdout
    # The orders files hold a row per order event: counted as such, not as orders.
    assert " order events" in result.stdout and " orders" not in result.stdout
    return directory


def test_project_with_a_store_writes_the_spec_layout_and_jsonl_logs(workspace: Path) -> None:
    files = sorted(path.relative_to(workspace / "parquet").as_posix() for path in (
        workspace / "parquet"
    ).rglob("*.parquet"))  # fmt: skip

    assert "WINZ25/2025-12-01/trades.parquet" in files
    assert "WDOF26/2025-12-01/signals.parquet" in files
    [log] = (workspace / "logs" / "projector").glob("*.jsonl")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries and all(
        set(entry) == {"timestamp", "level", "service", "message", "context"} for entry in entries
    )
    assert {entry["message"] for entry in entries} >= {"Projector started", "Projection committed"}
    assert entries[0]["timestamp"].endswith("Z") and entries[0]["service"] == "projector"


def test_sql_with_a_named_query_prints_a_table(workspace: Path) -> None:
    result = tradingcore("sql", "--root", "parquet", "--query", "vwap", cwd=workspace)

    assert result.returncode == 0, result.stderr
    header, rule, *rows, count = result.stdout.splitlines()
    assert header.split() == ["symbol", "date", "vwap", "volume", "trades"]
    assert set(rule) <= {"-", " "}
    assert len(rows) == 4 and count == "(4 rows)"


def test_sql_with_csv_json_and_parquet_formats_exports_the_same_rows(workspace: Path) -> None:
    query = "SELECT symbol, date, count(*) AS fills FROM fills GROUP BY ALL ORDER BY ALL"

    as_csv = tradingcore("sql", "--root", "parquet", query, "--format", "csv", cwd=workspace)
    as_json = tradingcore("sql", "--root", "parquet", query, "--format", "json", cwd=workspace)
    as_parquet = tradingcore(
        "sql", "--root", "parquet", query, "--format", "parquet", "--output", "fills.parquet",
        cwd=workspace,
    )  # fmt: skip

    csv_rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    json_rows = json.loads(as_json.stdout)
    parquet_rows = pq.read_table(workspace / "fills.parquet").to_pylist()
    assert as_parquet.returncode == 0, as_parquet.stderr
    assert (
        [(row["symbol"], row["date"], int(row["fills"])) for row in csv_rows]
        == [(row["symbol"], row["date"], row["fills"]) for row in json_rows]
        == [(row["symbol"], row["date"].isoformat(), row["fills"]) for row in parquet_rows]
    )
    assert len(csv_rows) == 4


def test_sql_with_bad_sql_exits_2_naming_the_error(workspace: Path) -> None:
    result = tradingcore("sql", "--root", "parquet", "SELECT nope FROM trades", cwd=workspace)

    assert result.returncode == 2
    assert "the query failed" in result.stderr and "nope" in result.stderr


def test_verify_with_intact_projections_exits_0(workspace: Path) -> None:
    result = tradingcore(
        "verify", "--store", "sqlite:///events.sqlite", "--root", "parquet",
        "--log-dir", "logs", cwd=workspace,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: every check passed" in result.stdout


def test_verify_with_a_row_missing_from_a_file_exits_1_with_a_report(
    workspace: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "parquet"
    _copy_tree(workspace / "parquet", damaged)
    target = damaged / "WINZ25" / "2025-12-01" / "trades.parquet"
    table = pq.read_table(target)
    pq.write_table(table.slice(1), target)

    result = tradingcore(
        "verify", "--store", f"sqlite:///{workspace / 'events.sqlite'}", "--root", damaged,
        "--log-dir", tmp_path / "logs", cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "trades: row only in the rebuild" in result.stdout


def test_tradingcore_command_with_an_unknown_store_scheme_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hosts.cli", "project", "--store", "mysql://x", "--log-dir", "x"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert "unsupported scheme 'mysql'" in result.stderr


def _copy_tree(source: Path, target: Path) -> None:
    import shutil

    shutil.copytree(source, target)


def test_python_m_hosts_projector_with_a_store_catches_up(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2025, 11, 30, tzinfo=UTC))
    app = open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", clock)
    populate(app, clock, trades=300, sessions=(date(2025, 12, 1),))
    app.close()

    result = subprocess.run(
        [sys.executable, "-m", "hosts.projector", "--store", "sqlite:///events.sqlite",
         "--output", "out", "--log-dir", "logs", "--compact"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "WINZ25" / "2025-12-01" / "trades.parquet").exists()


@pytest.mark.parametrize("written_by", ["older version", "other columns"])
def test_an_output_of_another_table_layout_is_refused_by_name_until_rebuilt(
    workspace: Path, tmp_path: Path, written_by: str
) -> None:
    """Appending to files with other columns would mix layouts, and a query would drop the
    new columns silently (a projection written before fees had no fees column)."""
    shutil.copytree(workspace / "parquet", tmp_path / "parquet")
    checkpoint_path = tmp_path / "parquet" / "_projection.json"
    checkpoint = json.loads(checkpoint_path.read_text())
    if written_by == "older version":
        del checkpoint["layout"]
    else:
        checkpoint["layout"]["fills"] = "0" * 16
    checkpoint_path.write_text(json.dumps(checkpoint))
    store = f"sqlite:///{workspace / 'events.sqlite'}"

    project = tradingcore("project", "--store", store, "--output", "parquet", cwd=tmp_path)
    sql = tradingcore("sql", "--root", "parquet", "SELECT count(*) FROM trades", cwd=tmp_path)
    rebuilt = tradingcore(
        "project", "--store", store, "--output", "parquet", "--rebuild", cwd=tmp_path
    )
    after = tradingcore("sql", "--root", "parquet", "SELECT count(*) AS n FROM fills", cwd=tmp_path)

    for refused in (project, sql):
        assert refused.returncode == 2, refused.stderr
        assert "another table layout" in refused.stderr
        assert "tradingcore project --rebuild" in refused.stderr
        assert "Traceback" not in refused.stderr
    if written_by == "other columns":
        assert "the columns of fills have changed" in project.stderr
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert after.returncode == 0, after.stderr
