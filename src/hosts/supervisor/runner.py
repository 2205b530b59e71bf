"""Run the plan: start hosts in order once each is healthy, restart the dead, stop in reverse."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from hosts.supervisor import probe, process
from hosts.supervisor.plan import HostPlan, RestartPolicy
from hosts.supervisor.state import StateFile

USAGE_ERROR = 2
"""A host that exits with 2 at start-up was given bad options: retrying cannot help."""
HEALTH_EVERY_S = 2.0
START_ATTEMPTS = 5
"""A host that dies this many times before it was ever healthy stops `up`: it will not start."""


class SupervisorMetrics:
    """`supervisor_*` metrics: restarts, and whether each host runs and is healthy."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.restarts = Counter(
            "supervisor_restarts_total", "Hosts restarted after dying", ["host"],
            registry=self.registry,
        )  # fmt: skip
        self.up = Gauge("supervisor_host_up", "1 while the host's process runs", ["host"],
                        registry=self.registry)  # fmt: skip
        self.healthy = Gauge(
            "supervisor_host_healthy", "1 while the host passes its health probes", ["host"],
            registry=self.registry,
        )  # fmt: skip
        self.delay = Gauge(
            "supervisor_restart_delay_seconds", "Backoff before the host's next restart",
            ["host"], registry=self.registry,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunSettings:
    config_file: Path
    output_dir: Path
    """Where each host's console output goes (`HOST.out`)."""
    environments: Mapping[str, Mapping[str, str]]
    """Each host's environment (the API keys each one needs, and nothing the others need)."""
    health_timeout: float = 60.0
    stop_timeout: float = 20.0
    stop_when_finished: bool = False
    """A finite capture ended: stop the whole system (else analytics and the API stay up)."""
    poll_interval: float = 0.2


@dataclass
class HostRun:
    plan: HostPlan
    child: process.Child | None = None
    output: IO[bytes] | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    healthy: bool = False
    finished: bool = False
    checked: float = 0.0
    history: list[int] = field(default_factory=list)


class StartFailed(Exception):
    """A host could not be started (bad options, or never healthy): the system stops."""


class Supervisor:
    def __init__(
        self,
        plan: Sequence[HostPlan],
        policy: RestartPolicy,
        settings: RunSettings,
        *,
        state: StateFile,
        logger: logging.Logger,
        metrics: SupervisorMetrics,
        say: Callable[[str], None] = print,
        on_started: Callable[[], None] = lambda: None,
    ) -> None:
        self.runs = [HostRun(host) for host in plan]
        self.policy = policy
        self.settings = settings
        self.state = state
        self.logger = logger
        self.metrics = metrics
        self.say = say
        self.on_started = on_started

    def run(self, stop: threading.Event) -> int:
        """Start everything, supervise until `stop` (or the end), then stop; return an exit code."""
        try:
            for run in self.runs:
                if stop.is_set():
                    return 0
                self._start_until_healthy(run, stop)
            if stop.is_set():  # stopped while the last host was starting: it never started
                return 0
            self._log("system started", hosts=[run.plan.name for run in self.runs])
            self.on_started()
            return self._supervise(stop)
        except StartFailed as error:
            self.say(f"error: {error}")
            self._log("system not started", level=logging.ERROR, error=str(error))
            return 1
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        """Stop the hosts in reverse start order: each flushes and exits, or is killed."""
        for run in reversed(self.runs):
            child = run.child
            if child is None or child.poll() is not None:
                self._close(run)
                continue
            self._log("stopping host", host=run.plan.name, pid=child.pid)
            code = process.stop(child, self.settings.stop_timeout)
            self._log("host stopped", host=run.plan.name, pid=child.pid, exit_code=code)
            self.say(f"{run.plan.name}: stopped (exit code {code})")
            self._close(run)
        self.state.remove()

    def _start_until_healthy(self, run: HostRun, stop: threading.Event) -> None:
        name = run.plan.name
        self._spawn(run)
        deadline = time.monotonic() + self.settings.health_timeout
        while not stop.wait(self.settings.poll_interval):
            if self.state.stop_requested():
                stop.set()  # `tradingcore down` while starting
                return
            code = run.child.poll() if run.child else None
            if code is not None:
                if self._exited(run, code, starting=True):
                    return
                if run.failures >= START_ATTEMPTS:
                    said = _last_error(self._output_path(run))
                    raise StartFailed(
                        f"{name} died {run.failures} times while starting"
                        f"{' (' + said + ')' if said else ''}; see {self._output_path(run)}"
                    )
                stop.wait(max(0.0, (run.restart_at or 0) - time.monotonic()))
                if stop.is_set():
                    return
                self._spawn(run)
                deadline = time.monotonic() + self.settings.health_timeout
                continue
            passed, seen = probe.healthy(run.plan.probes)
            if passed:
                self._set_healthy(run, True)
                self.say(f"{name}: healthy (pid {run.child.pid if run.child else '?'})")
                return
            if time.monotonic() > deadline:
                raise StartFailed(
                    f"{name} not healthy within {self.settings.health_timeout:g} s "
                    f"(last probe: {seen}); see {self._output_path(run)}"
                )

    def _supervise(self, stop: threading.Event) -> int:
        while not stop.wait(self.settings.poll_interval):
            if self.state.stop_requested():
                self._log("stop requested by tradingcore down")
                return 0
            done = [run.plan.name for run in self.runs if run.finished]
            if done and self.settings.stop_when_finished:  # also when it ended while starting
                self.say(f"{done[0]}: source finished; stopping the system")
                return 0
            now = time.monotonic()
            for run in self.runs:
                if run.finished:
                    continue
                if run.child is None:
                    if run.restart_at is not None and now >= run.restart_at:
                        self._spawn(run)
                    continue
                code = run.child.poll()
                if code is not None:
                    self._exited(run, code, starting=False)
                elif now - run.checked >= HEALTH_EVERY_S:
                    run.checked = now
                    self._set_healthy(run, probe.healthy(run.plan.probes)[0])
        return 0

    def _exited(self, run: HostRun, code: int, *, starting: bool) -> bool:
        """Book a host's exit; return True when it ended for good (finished)."""
        name, child = run.plan.name, run.child
        pid = child.pid if child else None
        run.child = None
        run.history.append(code)
        self.metrics.up.labels(host=name).set(0)
        self._set_healthy(run, False)
        if code == 0 and run.plan.finite:
            run.finished = True
            self._log("host finished", host=name, pid=pid, exit_code=code)
            self.say(f"{name}: finished its source (exit code 0); not restarted")
            for line in _summary(self._output_path(run)):
                self.say(f"  {line}")
            self._write_state()
            return True
        if starting and code == USAGE_ERROR:
            said = _last_error(self._output_path(run))
            raise StartFailed(
                f"{name} could not start (exit code 2){': ' + said if said else ''}; "
                f"see {self._output_path(run)}"
            )
        uptime = time.monotonic() - run.started
        run.failures = 1 if uptime >= self.policy.reset_after else run.failures + 1
        delay = self.policy.delay(run.failures)
        run.restart_at = time.monotonic() + delay
        self.metrics.restarts.labels(host=name).inc()
        self.metrics.delay.labels(host=name).set(delay)
        self._log(
            "host died; restarting after backoff",
            level=logging.WARNING,
            host=name,
            pid=pid,
            exit_code=code,
            failures=run.failures,
            delay_seconds=delay,
        )
        self.say(f"{name}: exited with code {code}; restart {run.failures} in {delay:g} s")
        self._write_state()
        return False

    def _spawn(self, run: HostRun) -> None:
        plan = run.plan
        if run.output is None:
            run.output = process.open_output(self.settings.output_dir, plan.name)
        command = plan.command(self.settings.config_file)
        run.child = process.spawn(
            command, env=self.settings.environments[plan.name], output=run.output
        )
        run.started = time.monotonic()
        run.restart_at = None
        run.checked = 0.0
        restart = len(run.history)
        self.metrics.up.labels(host=plan.name).set(1)
        self._log(
            "host restarted" if restart else "host started",
            host=plan.name,
            pid=run.child.pid,
            restart=restart,
            arguments=command[3:],
        )
        self._write_state()

    def _set_healthy(self, run: HostRun, healthy: bool) -> None:
        if healthy != run.healthy:
            self._log("host healthy" if healthy else "host not healthy", host=run.plan.name)
        run.healthy = healthy
        self.metrics.healthy.labels(host=run.plan.name).set(1 if healthy else 0)

    def _write_state(self) -> None:
        self.state.write_hosts(
            {
                run.plan.name: {
                    "pid": run.child.pid if run.child else None,
                    "status": _status(run),
                    "restarts": len(run.history) - (1 if run.finished else 0),
                }
                for run in self.runs
            }
        )

    def _close(self, run: HostRun) -> None:
        if run.output is not None:
            run.output.close()
            run.output = None

    def _output_path(self, run: HostRun) -> Path:
        return self.settings.output_dir / f"{run.plan.name}.out"

    def _log(self, message: str, *, level: int = logging.INFO, **context: Any) -> None:
        self.logger.log(level, message, extra={"context": context})


def _last_error(path: Path) -> str:
    """The host's last `error: ...` line in its console output, if any."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    found = [line for line in lines[-50:] if line.startswith("error: ")]
    return found[-1].removeprefix("error: ") if found else ""


def _summary(path: Path) -> list[str]:
    """A finished capture's closing summary (its `captured ...` line and the lines after)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
    except OSError:
        return []
    starts = [index for index, line in enumerate(lines) if line.startswith("captured ")]
    return [line.strip() for line in lines[starts[-1] :]] if starts else []


def _status(run: HostRun) -> str:
    if run.finished:
        return "finished"
    if run.child is None:
        return "restarting" if run.restart_at is not None else "stopped"
    return "running"
