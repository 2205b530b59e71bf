"""Process CPU, memory and Python metrics for a host's Prometheus registry, on Linux and Windows.

prometheus_client's ProcessCollector reads `/proc` and exports nothing where there is none
(Windows, the spec's platform); there the portable collector below exports the same names from
the standard library (CPU time) and the Win32 API (working set), so one dashboard serves both.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from typing import Final

from prometheus_client import (
    PROCESS_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PROCESS_METRICS: Final = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
)
"""Exported on every platform (Linux adds virtual memory and file descriptors)."""

_DEFAULT_PORTABLE: Collector | None = None


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Add process (CPU, memory, start time), Python platform and GC collectors to a registry.

    The default registry already holds prometheus_client's process, platform and GC collectors;
    on a platform without `/proc` its ProcessCollector is replaced by the portable one (once).
    """
    has_proc = os.path.isfile("/proc/self/stat")
    if registry is REGISTRY:
        global _DEFAULT_PORTABLE
        if not has_proc and _DEFAULT_PORTABLE is None:
            with suppress(KeyError):
                REGISTRY.unregister(PROCESS_COLLECTOR)
            _DEFAULT_PORTABLE = PortableProcessCollector()
            REGISTRY.register(_DEFAULT_PORTABLE)
        return
    if has_proc:
        ProcessCollector(registry=registry)
    else:
        registry.register(PortableProcessCollector())
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


class PortableProcessCollector(Collector):
    """CPU time, resident memory (Windows working set) and start time without `/proc`."""

    def __init__(self) -> None:
        # Registered at start-up, so within a second or two of the process's real start.
        self.start_time = time.time()

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            value=time.process_time(),
        )
        resident = resident_memory_bytes()
        if resident is not None:
            yield GaugeMetricFamily(
                "process_resident_memory_bytes", "Resident memory size in bytes.", value=resident
            )
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=self.start_time,
        )


def resident_memory_bytes() -> float | None:
    """Return the process's resident memory (Windows: working set), or None if unknown."""
    if sys.platform == "win32":
        return _windows_working_set()
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is the peak, in KiB on Linux and bytes on macOS: the best stdlib figure there.
    return float(peak if sys.platform == "darwin" else peak * 1024)


def _windows_working_set() -> float | None:
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [
            ("cb", wintypes.DWORD),
            ("PageFaultCount", wintypes.DWORD),
            ("PeakWorkingSetSize", ctypes.c_size_t),
            ("WorkingSetSize", ctypes.c_size_t),
            ("QuotaPeakPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t),
            ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
            ("PagefileUsage", ctypes.c_size_t),
            ("PeakPagefileUsage", ctypes.c_size_t),
        ]

    counters = Counters()
    counters.cb = ctypes.sizeof(Counters)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    process = kernel32.GetCurrentProcess()
    if not kernel32.K32GetProcessMemoryInfo(process, ctypes.byref(counters), counters.cb):
        return None
    return float(counters.WorkingSetSize)
