"""The binding in a real child process: exit while the DLL thread is busy, env-driven refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sys
from pathlib import Path
from adapters.profitdll.binding import Credentials
from adapters.profitdll.errors import LoginFailed
from adapters.profitdll.fakebuild import FakeProfitDLL
from adapters.profitdll.feed import ProfitDLLFeed
from tradingcore.domain.values import Symbol

class Listener:
    trades = 0
    def on_trade(self, trade): Listener.trades += 1
    def on_book(self, book): pass
    def on_state(self, state): pass
    def on_invalid(self, reason, record): pass

path = Path(sys.argv[1])
feed = ProfitDLLFeed(path, Credentials("key", "user", "password"))
feed.start(Listener())
feed.subscribe(Symbol("WINZ25"))
try:
    feed.wait_until_connected(5)
except LoginFailed as error:
    print(f"refused: {error}", flush=True)
    sys.exit(3)
feed.drain()
FakeProfitDLL(path).start_stream("WINZ25", "F", 1_000_000, rate=0)
while Listener.trades < 1_000:
    pass
print("streaming", flush=True)
"""


def run(library: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    source = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(source), **environment}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(library)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_process_exit_while_dll_thread_streams_is_clean(fake_library_path: Path) -> None:
    # The interpreter exits without stop() while the fake's thread is firing callbacks.
    finished = run(fake_library_path)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "streaming"


def test_process_with_bad_credentials_environment_is_refused_with_reason(
    fake_library_path: Path,
) -> None:
    finished = run(fake_library_path, FAKE_PROFITDLL_BAD_CREDENTIALS="1")

    assert finished.returncode == 3, finished.stderr
    assert "refused: ProfitDLL refused the session: login: LOGIN_INVALID_PASS" in finished.stdout
