"""Schemathesis against a real server: every check, auth checks included, zero failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.server import ApiServer, create_key

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.slow
def test_schemathesis_with_all_checks_finds_no_failure(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.json"
    admin = create_key(keys_file, "root", "admin")
    server = ApiServer(
        tmp_path, keys_file, ["--rate-limit-client", "100000", "--rate-limit-key", "100000"]
    ).start()
    try:
        done = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file", str(CONFIG),
                "run", f"{server.url}/schema/openapi.json",
                "--header", f"X-API-Key: {admin}",
                "--checks", "all",
                "--max-examples", "6",
                "--seed", "20251201",
                "--workers", "1",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            cwd=tmp_path,
        )  # fmt: skip
    finally:
        server.stop()

    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # 12 + the dashboard's 3 + the lists of orders and signals + the signal batch + progress
    assert "Tested: 19" in done.stdout
