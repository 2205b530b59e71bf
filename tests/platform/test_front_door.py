"""The `tradingcore` command as a new user meets it: --version, defaults in --help, a closed
pipe, a mistyped store path or projection folder."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from hosts.cli import COMMANDS, DefaultsHelpFormatter, build_parser, main
from tests.analytics.factories import session
from tests.analytics.test_host import record_tape

TRADINGCORE = [sys.executable, "-m", "hosts.cli"]


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"tradingcore {importlib.metadata.version('tradingcore')}\n"


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser(name)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise AssertionError(name)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_every_default(name: str) -> None:
    sub = _subparser(name)
    assert sub.formatter_class is DefaultsHelpFormatter
    formatter = DefaultsHelpFormatter(prog="tradingcore")
    for action in sub._actions:
        default = action.default
        if not action.option_strings or default in (None, argparse.SUPPRESS):
            continue
        if default is False or (isinstance(default, list | tuple) and not default):
            continue
        text = formatter._expand_help(action) if action.help else ""
        assert "default" in text.lower(), f"{name} {action.option_strings}: {text!r}"
    sub.format_help()  # every help text expands


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_default_in_help_is_a_value_the_option_takes(name: str) -> None:
    """`--auto-hold {close,keep}` once said `(default: True)`: a value no one can type."""
    for action in _subparser(name)._actions:
        metavar = action.metavar if isinstance(action.metavar, str) else ""
        allowed = list(action.choices or ()) or (
            metavar[1:-1].split(",") if metavar.startswith("{") else []
        )
        if not action.option_strings or not allowed or action.default is None:
            continue
        assert str(action.default) in allowed, f"{name} {action.option_strings}"


def test_help_of_a_command_prints_its_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # no line wraps inside the texts
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    out = capsys.readouterr().out
    assert "(default: data/parquet)" in out
    assert "(default: sqlite:///data/events.sqlite)" in out


def _run_with_closed_stdout(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run `tradingcore ARGS` with its stdout a pipe whose reader is gone (`... | head`)."""
    process = subprocess.Popen(
        [*TRADINGCORE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away before the first line
    stderr = process.stderr.read()
    code = process.wait(timeout=300)
    return subprocess.CompletedProcess(process.args, code, b"", stderr)


def test_sql_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "parquet").mkdir()
    done = _run_with_closed_stdout(
        "sql", "--root", "parquet", "SELECT range AS n FROM range(100000)", cwd=tmp_path
    )
    assert done.stderr == b""
    assert done.returncode == 1


def test_backtest_into_a_closed_pipe_ends_without_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    record_tape(url, session(1_500, seed=3))
    done = _run_with_closed_stdout("backtest", "--store", url, "--json", cwd=tmp_path)
    assert done.stderr == b""
    assert done.returncode == 1


@pytest.mark.parametrize(
    "command",
    [
        ["verify", "--log-dir", "logs"],
        ["project", "--output", "parquet", "--log-dir", "logs"],
        ["backtest"],
        ["recording", "export", "out.tcrec"],
    ],
)
def test_a_reading_command_refuses_a_missing_store_file(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "typo" / "events.sqlite"
    code = main([*command, "--store", f"sqlite:///{missing}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: no event store at {missing}")
    assert err.count("\n") == 1
    assert not missing.parent.exists()  # no new empty database, no folder


def test_sql_of_a_missing_projection_folder_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sql", "--root", str(tmp_path / "nope"), "SELECT 1"])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: no Parquet projections at {tmp_path / 'nope'} (not a folder): run "
        "`tradingcore project` first, or give --root\n"
    )
