"""A host that crashes in native code says where: every thread's Python stack on stderr."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal sent to provoke the crash")
@pytest.mark.parametrize("entry", [["-m", "hosts.cli", "capture"], ["-m", "hosts.capture"]])
def test_a_host_killed_by_a_segfault_prints_its_threads_stacks(
    tmp_path: Path, entry: list[str]
) -> None:
    command = [
        sys.executable, *entry,
        "--store", f"sqlite:///{tmp_path / 'events.sqlite'}",
        "--source", "synthetic", "--trades", "100000000", "--rate", "1000",
        "--ws-url", "ws://127.0.0.1:9", "--metrics-port", "-1",
        "--log-dir", str(tmp_path / "logs"),
    ]  # fmt: skip
    host = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "events.sqlite").exists():  # running: it has opened its store
            assert host.poll() is None, host.stderr.read() if host.stderr else ""
            assert time.monotonic() < deadline, "the capture host did not start"
            time.sleep(0.05)
        time.sleep(0.5)
        host.send_signal(signal.SIGSEGV)  # what a crash in a C extension delivers
        _, errors = host.communicate(timeout=30)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()

    text = errors.decode("utf-8", "replace")
    assert host.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in text, text[-2000:]
    assert 'File "' in text and "Thread 0x" in text  # the stacks, each thread's
