"""The served API host keeps the garbage collector off its start-up heap (a real process)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from hosts.api.cli import GC_YOUNG_THRESHOLD, settle_garbage_collector
before = gc.get_threshold()
settle_garbage_collector()
after = gc.get_threshold()
cycle = []
cycle.append(cycle)
del cycle
print(gc.get_freeze_count() > 0, after[0] == GC_YOUNG_THRESHOLD, after[1:] == before[1:],
      gc.collect() >= 1)
"""


def test_settling_freezes_the_start_up_heap_and_still_collects_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )

    assert done.stdout.split() == ["True", "True", "True", "True"]
