"""A stop asked while a host's interpreter is still starting waits for its stop handler.

Windows has no signal masks: there the supervisor's CTRL_BREAK ends an interpreter that has no
handler yet. The guard that works everywhere is the ready file the host creates once its
handler is in (`hosts.cli.exit_cleanly_while_starting`); these children take the POSIX mask
away first, so only that guard stands between them and a death by SIGTERM.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from hosts.supervisor import process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the mask is POSIX; see module")

SLOW_START = textwrap.dedent(
    """
    import signal, sys, time
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # as on Windows: no mask
    time.sleep(START_S)  # an interpreter importing its modules
    if HANDLER:
        from hosts.cli import exit_cleanly_while_starting
        exit_cleanly_while_starting()
    time.sleep(60)
    """
)


def _start(tmp_path: Path, *, handler: bool, start_s: float) -> process.Child:
    script = SLOW_START.replace("START_S", str(start_s)).replace("HANDLER", str(handler))
    output = (tmp_path / "host.out").open("wb")
    return process.spawn([sys.executable, "-c", script], env={}, output=output)


def test_a_stop_during_start_up_waits_for_the_handler_and_exits_0(tmp_path: Path) -> None:
    child = _start(tmp_path, handler=True, start_s=1.0)
    asked = time.monotonic()
    code = process.stop(child, timeout=20)
    assert code == 0, (tmp_path / "host.out").read_text()
    assert time.monotonic() - asked >= 0.9  # it waited for the handler, then stopped at once


def test_without_the_handshake_the_same_stop_kills_the_starting_host(tmp_path: Path) -> None:
    """The counter-test: the same child that never says its handler is in dies of SIGTERM
    once the wait gives up, as it did on Windows before the handshake."""
    child = _start(tmp_path, handler=False, start_s=0.2)
    assert not process.wait_until_stoppable(child, timeout=0.5)
    process.request_stop(child, ready_timeout=0.5)  # gives up waiting, then SIGTERM
    assert child.wait(20) == -15


def test_a_host_that_exits_while_starting_is_not_waited_for(tmp_path: Path) -> None:
    script_path = tmp_path / "quick.py"
    script_path.write_text("raise SystemExit(3)\n")
    child = process.spawn(
        [sys.executable, str(script_path)], env={}, output=(tmp_path / "o").open("wb")
    )
    assert process.wait_until_stoppable(child, timeout=20)
    assert process.stop(child, timeout=20) == 3
