"""Health probes: a URL that answers 200, a TCP port that accepts a connection."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterable

from hosts.supervisor.plan import Probe

TIMEOUT_S = 2.0


def check(probe: Probe, timeout: float = TIMEOUT_S) -> tuple[bool, str]:
    """Run one probe; return (passed, what was seen: `200`, `503`, `refused`...)."""
    if probe.tcp is not None:
        try:
            with socket.create_connection(probe.tcp, timeout=timeout):
                pass
        except OSError as error:
            return False, f"tcp {probe.tcp[0]}:{probe.tcp[1]} {_reason(error)}"
    if probe.url is not None:
        try:
            with urllib.request.urlopen(probe.url, timeout=timeout) as response:
                response.read()
                return response.status == 200, str(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return False, str(error.code)
        except (urllib.error.URLError, OSError) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            return False, _reason(reason)
    return True, "ok"


def healthy(probes: Iterable[Probe], timeout: float = TIMEOUT_S) -> tuple[bool, str]:
    """Run probes in turn; stop at the first failing one."""
    seen = "ok"
    for probe in probes:
        passed, seen = check(probe, timeout)
        if not passed:
            return False, seen
    return True, seen


def _reason(error: object) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timed out"
    return str(error)
