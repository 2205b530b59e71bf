"""The three hosts as real processes on loopback: start, wait for them, scrape, stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hosts.api.auth import Role, create_key

START_SECONDS = 60.0


@dataclass
class Host:
    name: str
    process: subprocess.Popen[str]
    url: str
    log: Path
    metrics_port: int | None = None

    def metric(self, name: str) -> float | None:
        """Return one unlabelled metric's value from the host's /metrics (None: absent)."""
        assert self.metrics_port is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as reply:
            text = reply.read().decode()
        match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else None

    def stop(self, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


@dataclass
class System:
    """A store, an API key and the hosts started over them."""

    root: Path
    hosts: list[Host] = field(default_factory=list)

    def __post_init__(self) -> None:
        # SYSTEM_STORE_QUERY: the store URL's options for a benchmark variant, e.g.
        # "?synchronous=normal"; the tests leave it unset.
        query = os.environ.get("SYSTEM_STORE_QUERY", "")
        self.store = f"sqlite:///{self.root / 'events.sqlite'}{query}"
        self.keys_file = self.root / "keys.json"
        self.key = create_key(self.keys_file, "bot", Role.TRADER, None)
        self.logs = self.root / "logs"

    def start(self, name: str, args: list[str], pattern: str, **env: str) -> Host:
        """Start `python -m hosts.NAME ARGS` and wait for its line matching `pattern`."""
        log = self.root / f"{name}.out"
        out: IO[Any] = log.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", f"hosts.{name}", *args],
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
            env={**os.environ, **env},
        )
        assert process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            out.write(line)
            match = re.search(pattern, line)
            if match:
                host = Host(name, process, match.group("url"), log)
                metrics = re.search(r"metrics on :(\d+)", line)
                host.metrics_port = int(metrics.group(1)) if metrics else None
                self.hosts.append(host)
                _drain(process.stdout, out)
                return host
        process.kill()
        raise AssertionError(f"{name} did not start: {line!r}; see {log}")

    def api(self, *extra: str) -> Host:
        return self.start(
            "api",
            [
                "--store",
                self.store,
                "--port",
                "0",
                "--keys-file",
                str(self.keys_file),
                "--log-dir",
                str(self.logs),
                "--auto-execute",
                *extra,
            ],
            r"listening on (?P<url>http://\S+)",
        )

    def analytics(self, api: Host, *extra: str) -> Host:
        return self.start(
            "analytics",
            [
                "--store",
                self.store,
                "--listen",
                "127.0.0.1:0",
                "--metrics-port",
                "0",
                "--api-url",
                api.url,
                "--api-key-env",
                "TC_TEST_KEY",
                "--log-dir",
                str(self.logs),
                *extra,
            ],
            r"listening on (?P<url>ws://\S+?),",
            TC_TEST_KEY=self.key,
        )

    def capture_command(self, analytics: Host, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "hosts.capture", "--store", self.store,
            "--ws-url", analytics.url, "--metrics-port", "0",
            "--log-dir", str(self.logs), *extra,
        ]  # fmt: skip

    def capture(self, analytics: Host, *extra: str, timeout: float = 300.0) -> str:
        """Run a finite capture to its end; return its output."""
        done = subprocess.run(
            self.capture_command(analytics, *extra),
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop_all(self) -> None:
        for host in reversed(self.hosts):
            host.stop()


def _drain(stream: IO[str], out: IO[Any]) -> None:
    """Copy a host's later stdout to its log from a thread, so its pipe never fills."""
    import threading

    def copy() -> None:
        for line in stream:
            out.write(line)
            out.flush()

    threading.Thread(target=copy, daemon=True).start()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
