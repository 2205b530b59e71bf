"""Bad store files and servers end in one line naming the file and the cause, never a traceback.

Each case runs the real `tradingcore` command in a subprocess, as a user would.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.eventstore import open_store
from tradingcore.ports.clock import ManualClock


def make_store(directory: Path, kind: str) -> str:
    """Create the bad store `kind` in `directory`; return its --store URL."""
    path = directory / f"{kind}.sqlite"
    if kind == "not-sqlite":
        path.write_text("these are not the bytes of a database\n")
    elif kind == "truncated":
        good = directory / "good.sqlite"
        open_store(f"sqlite:///{good}", ManualClock()).close()
        path.write_bytes(good.read_bytes()[:3_000])
    elif kind == "other-application":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE invoices (number INTEGER)")
    elif kind == "directory":
        path.mkdir()
    elif kind == "postgres-wrong-port":
        return "postgresql://postgres@127.0.0.1:1/test?schema=nothing_here"
    return f"sqlite:///{path}"


def tradingcore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hosts", *args], cwd=cwd, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


KINDS = ["not-sqlite", "truncated", "other-application", "directory", "postgres-wrong-port"]
COMMANDS = {
    "verify": ["verify", "--log-dir", "logs"],
    "project": ["project", "--output", "out", "--log-dir", "logs"],
    "recording export": ["recording", "export", "out.tcrec"],
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_with_a_bad_store_prints_one_line_naming_it_and_exits_non_zero(
    tmp_path: Path, kind: str, command: str
) -> None:
    url = make_store(tmp_path, kind)

    result = tradingcore(*COMMANDS[command], "--store", url, cwd=tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: store ")
    assert (kind if kind != "postgres-wrong-port" else "127.0.0.1:1") in lines[0]


def test_other_applications_database_is_left_untouched(tmp_path: Path) -> None:
    url = make_store(tmp_path, "other-application")

    tradingcore("project", "--store", url, "--output", "out", "--log-dir", "logs", cwd=tmp_path)

    with sqlite3.connect(tmp_path / "other-application.sqlite") as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["invoices"]


@pytest.mark.parametrize(
    "host", [["analytics", "--listen", "127.0.0.1:0", "--metrics-port", "0"], ["capture"]]
)
def test_host_with_a_store_that_is_a_directory_exits_2_naming_it(
    tmp_path: Path, host: list[str]
) -> None:
    url = make_store(tmp_path, "directory")

    result = tradingcore(*host, "--store", url, cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "directory.sqlite: is a directory" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["import", "bad.csv"],
        ["import", "missing.csv"],
        ["import", "--dry-run", "bad.csv"],
        ["recording", "import", "bad.csv"],
    ],
)
def test_failed_import_into_a_new_store_leaves_no_store_file(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "bad.csv").write_text("garbage\n")

    result = tradingcore(*command, "--store", "sqlite:///new/events.sqlite", cwd=tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "new").exists() or list((tmp_path / "new").iterdir()) == []


def test_failed_import_into_an_existing_store_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("garbage\n")
    open_store(f"sqlite:///{tmp_path / 'events.sqlite'}", ManualClock()).close()

    result = tradingcore("import", "bad.csv", "--store", "sqlite:///events.sqlite", cwd=tmp_path)

    assert result.returncode == 1
    assert (tmp_path / "events.sqlite").stat().st_size > 0


HOSTS = {
    "analytics": ["analytics", "--listen", "127.0.0.1:0", "--metrics-port", "0"],
    "capture": ["capture", "--metrics-port", "0"],
    "api": ["api", "--port", "0", "--keys-file", "keys.json"],
}


@pytest.mark.parametrize("kind", ["not-sqlite", "truncated", "other-application"])
@pytest.mark.parametrize("host", sorted(HOSTS))
def test_host_with_a_bad_store_file_exits_2_with_one_line_naming_it(
    tmp_path: Path, host: str, kind: str
) -> None:
    url = make_store(tmp_path, kind)
    if host == "api":
        tradingcore("api", "--keys-file", "keys.json", "--create-key", "a", "--role", "trader",
                    cwd=tmp_path)  # fmt: skip

    result = tradingcore(*HOSTS[host], "--store", url, "--log-dir", "logs", cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: store "), result.stderr
    assert f"{kind}.sqlite: " in lines[0]
