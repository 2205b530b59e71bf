"""The one file-lock module: exclusive between descriptors and processes, freed on kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from adapters.filelock import try_lock, unlock


def test_a_second_descriptor_cannot_take_a_held_lock_until_it_is_released(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    second = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        assert try_lock(first)
        assert not try_lock(second)
        unlock(first)
        assert try_lock(second)
        assert not try_lock(first)
    finally:
        os.close(first)
        os.close(second)


def test_the_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys; from adapters.filelock import try_lock\n"
            f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "assert try_lock(fd); print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        assert not try_lock(descriptor)
        holder.kill()
        holder.wait(timeout=30)
        assert try_lock(descriptor)
    finally:
        os.close(descriptor)
        if holder.poll() is None:
            holder.kill()
            holder.wait()
