"""The running system's state file: the supervisor's pid, each host's pid, ports and probes.

`tradingcore status` and `tradingcore down` read it; `down` asks the supervisor to stop by
creating a stop-request file beside it (it works the same on Windows, where a process in
another console cannot be sent a Ctrl-C), and on POSIX also by SIGTERM.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hosts.supervisor.plan import HostPlan, Probe


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stop_file = self.path.with_name(self.path.stem + ".stop")
        self._data: dict[str, Any] = {}

    def start(self, plan: Sequence[HostPlan], *, pid: int, details: Mapping[str, Any]) -> None:
        """Record a new run (and forget any stale stop request)."""
        self.stop_file.unlink(missing_ok=True)
        self._data = {
            "pid": pid,
            **details,
            "hosts": {
                host.name: {
                    "service": host.service_name,
                    "pid": None,
                    "status": "waiting",
                    "listens": list(host.listens),
                    "probes": [asdict(item) for item in host.probes],
                }
                for host in plan
            },
        }
        self._save()

    def write_hosts(self, hosts: Mapping[str, Mapping[str, Any]]) -> None:
        for name, values in hosts.items():
            self._data.setdefault("hosts", {}).setdefault(name, {}).update(values)
        self._save()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.stop_file.unlink(missing_ok=True)

    def read(self) -> dict[str, Any] | None:
        """Return the recorded state, or None when no system was started here."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ValueError(f"state file {self.path}: unreadable ({error})") from None
        return data if isinstance(data, dict) else None

    def request_stop(self) -> None:
        self.stop_file.parent.mkdir(parents=True, exist_ok=True)
        self.stop_file.write_text("stop\n", encoding="utf-8")

    def stop_requested(self) -> bool:
        return self.stop_file.exists()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self._data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


def probes_of(entry: Mapping[str, Any]) -> list[Probe]:
    """Rebuild a host's probes from its state entry."""
    found = []
    for item in entry.get("probes", []):
        tcp = item.get("tcp")
        found.append(Probe(url=item.get("url"), tcp=(str(tcp[0]), int(tcp[1])) if tcp else None))
    return found
