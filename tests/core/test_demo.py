"""The front door: `tradingcore demo` runs on the embedded store and is reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_demo(data_dir: Path) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hosts",
            "demo",
            "--data-dir",
            str(data_dir),
            "--trades",
            "4000",
            "--every",
            "500",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_demo_with_same_seed_prints_the_same_positions_and_pnl(tmp_path: Path) -> None:
    first = run_demo(tmp_path / "a").splitlines()
    second = run_demo(tmp_path / "b").splitlines()
    assert first[1:] == second[1:]  # the first line carries the elapsed time
    assert any(line.startswith("WINZ25") for line in first)
    assert any(line.startswith("total P&L R$") for line in first)
    assert (tmp_path / "a" / "events.sqlite").exists()


def test_cli_without_command_exits_with_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hosts"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "usage: tradingcore" in result.stderr
