"""The lifeline ends a helper that never reads its socket once its parent is killed."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.platform.test_parent_death import _alive, _stat, assert_all_end

CHILD = (
    "import sys, time; from hosts.lifeline import watch_parent\n"
    "watch_parent(int(sys.argv[1]), grace=0.1)  # as spawn_helper passes it\n"
    "while True: time.sleep(1)  # busy elsewhere: never reads a socket\n"
)
PARENT = (
    "import os, subprocess, sys\n"
    f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}, str(os.getpid())])\n"
    "print(child.pid, flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.mark.skipif(sys.platform != "linux", reason="walks /proc")
@pytest.mark.parametrize("settle", [0.0, 1.0])
def test_a_helper_that_never_reads_ends_after_its_parent_is_killed(settle: float) -> None:
    """Killed at once (the helper may not watch yet: its parent is already gone when it
    starts) or after the helper settled."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        fields = _stat(pid)
        assert fields is not None
        child = (pid, int(fields[19]))
        assert _alive(child)
        time.sleep(settle)
        parent.kill()
        parent.wait(timeout=30)
        assert_all_end({child})
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
