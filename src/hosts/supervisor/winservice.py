"""Windows services for the hosts (pywin32's service framework; `pip install .[windows]`).

Each service (TradingSystem-Analytics, -DataCapture, -Gateway) is hosted by pywin32's
`pythonservice.exe`, which loads the class `hosts.supervisor.winservice.<name>` (made on
demand by this module's `__getattr__`). The service runs its host as a child process, the same
command line `tradingcore up` runs, reports RUNNING only once the plan's health probes pass (so
the service manager starts the services that depend on it after that), and stops it as `up`
does (CTRL_BREAK, then kill after the stop timeout). A host that dies makes the service stop
with an error, and the service manager restarts it with the plan's backoff (failure actions).
Messages go to the Windows Event Log and to `data/logs/supervisor/` (JSONL).

Only type-checked here (`mypy --platform win32`): pywin32 is imported inside functions only,
so this module imports anywhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from hosts.supervisor.services import ServiceDefinition

OPTION_CONFIG: Final = "Config"
OPTION_DIRECTORY: Final = "WorkingDirectory"
OPTION_HOST: Final = "Host"


def class_name(service_name: str) -> str:
    return service_name.replace("-", "_")


def install(definitions: list[ServiceDefinition], config_file: Path) -> list[str]:
    """Register every service (automatic start, dependencies, recovery); return what it did."""
    import win32evtlogutil
    import win32service
    import win32serviceutil

    done = []
    for definition in definitions:
        name = definition.name
        win32serviceutil.InstallService(
            f"{__name__}.{class_name(name)}",
            name,
            definition.display_name,
            startType=win32service.SERVICE_AUTO_START,
            serviceDeps=list(definition.requires) or None,
            description=definition.host.description,
        )
        win32serviceutil.SetServiceCustomOption(name, OPTION_HOST, definition.host.name)
        win32serviceutil.SetServiceCustomOption(name, OPTION_CONFIG, str(config_file.absolute()))
        win32serviceutil.SetServiceCustomOption(
            name, OPTION_DIRECTORY, str(definition.working_directory)
        )
        _set_recovery(name, definition)
        import servicemanager

        win32evtlogutil.AddSourceToRegistry(name, servicemanager.__file__)
        done.append(f"installed {name} (automatic, restarts on failure)")
    return done


def remove(definitions: list[ServiceDefinition]) -> list[str]:
    import win32serviceutil

    stop(definitions)
    for definition in reversed(definitions):
        win32serviceutil.RemoveService(definition.name)
    return [f"removed {definition.name}" for definition in reversed(definitions)]


def start(definitions: list[ServiceDefinition]) -> list[str]:
    """Start the services in order, each once the one before it runs (is healthy)."""
    import win32service
    import win32serviceutil

    for definition in definitions:
        win32serviceutil.StartService(definition.name)
        win32serviceutil.WaitForServiceStatus(
            definition.name, win32service.SERVICE_RUNNING, int(definition.health_timeout) + 30
        )
    return [f"started {definition.name}" for definition in definitions]


def stop(definitions: list[ServiceDefinition]) -> list[str]:
    """Stop the services in reverse order."""
    import pywintypes
    import win32service
    import win32serviceutil

    done = []
    for definition in reversed(definitions):
        try:
            win32serviceutil.StopService(definition.name)
        except pywintypes.error:
            continue  # not running
        win32serviceutil.WaitForServiceStatus(
            definition.name, win32service.SERVICE_STOPPED, int(definition.stop_timeout) + 30
        )
        done.append(f"stopped {definition.name}")
    return done


def _set_recovery(name: str, definition: ServiceDefinition) -> None:
    import win32service

    policy = definition.recovery
    actions = [(win32service.SC_ACTION_RESTART, int(delay * 1000)) for delay in policy.steps()]
    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        handle = win32service.OpenService(manager, name, win32service.SERVICE_ALL_ACCESS)
        try:
            win32service.ChangeServiceConfig2(
                handle,
                win32service.SERVICE_CONFIG_FAILURE_ACTIONS,
                {"ResetPeriod": int(policy.reset_after), "RebootMsg": "", "Command": "",
                 "Actions": actions},
            )  # fmt: skip
            # A host that exits with an error (not only a crash) counts as a failure.
            win32service.ChangeServiceConfig2(
                handle, win32service.SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, True
            )
        finally:
            win32service.CloseServiceHandle(handle)
    finally:
        win32service.CloseServiceHandle(manager)


def service_class(service_name: str) -> type[Any]:
    """Return the pywin32 service class that runs one host (pythonservice.exe loads it)."""
    import servicemanager
    import win32event
    import win32service
    import win32serviceutil

    class HostService(win32serviceutil.ServiceFramework):
        _svc_name_ = service_name
        _svc_display_name_ = service_name.replace("-", " ")

        def __init__(self, args: list[str]) -> None:
            super().__init__(args)
            self.stop_event = win32event.CreateEvent(None, 0, 0, None)

        def SvcStop(self) -> None:  # noqa: N802 - pywin32's names
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=60_000)
            win32event.SetEvent(self.stop_event)

        def SvcRun(self) -> None:  # noqa: N802
            self.ReportServiceStatus(win32service.SERVICE_START_PENDING, waitHint=120_000)
            run_host(
                service_name,
                lambda: self.ReportServiceStatus(win32service.SERVICE_RUNNING),
                lambda seconds: (
                    win32event.WaitForSingleObject(self.stop_event, int(seconds * 1000))
                    == win32event.WAIT_OBJECT_0
                ),
                servicemanager.LogInfoMsg,
                servicemanager.LogErrorMsg,
            )
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)

    HostService.__name__ = HostService.__qualname__ = class_name(service_name)
    return HostService


def run_host(
    service_name: str,
    report_running: Callable[[], None],
    wait_stop: Callable[[float], bool],
    info: Callable[[str], None],
    error: Callable[[str], None],
) -> None:
    """Run one host until the service is stopped; raise when the host fails (recovery)."""
    import win32serviceutil

    from adapters.credentials import SERVICE_VARIABLE
    from adapters.jsonlog import configure_logging
    from hosts.config import load_config
    from hosts.supervisor import probe, process
    from hosts.supervisor.services import by_name, service_definitions

    config_file = Path(win32serviceutil.GetServiceCustomOption(service_name, OPTION_CONFIG))
    directory = Path(win32serviceutil.GetServiceCustomOption(service_name, OPTION_DIRECTORY))
    os.chdir(directory)
    config = load_config(config_file)
    definition = by_name(service_definitions(config, config_file, directory), service_name)
    logger = configure_logging("supervisor", config.observability.log_dir)
    environment = {**os.environ, SERVICE_VARIABLE: service_name}  # named in credential errors
    if definition.environment_file is not None and definition.environment_file.exists():
        environment.update(read_environment_file(definition.environment_file))
    output = process.open_output(config.observability.log_dir / "supervisor", definition.host.name)
    child = process.spawn(definition.command, env=environment, output=output)
    context = {"host": definition.host.name, "service": service_name, "pid": child.pid}
    logger.info("service started its host", extra={"context": context})
    info(f"{service_name}: started {definition.host.name} (pid {child.pid})")
    deadline = time.monotonic() + definition.health_timeout
    while not probe.healthy(definition.host.probes)[0]:
        if child.poll() is not None or time.monotonic() > deadline or wait_stop(0.5):
            break
    report_running()
    while not wait_stop(1.0):
        code = child.poll()
        if code is None:
            continue
        output.close()
        if code == 0 and definition.host.finite:
            info(f"{service_name}: {definition.host.name} finished its source")
            logger.info("host finished", extra={"context": {**context, "exit_code": code}})
            return
        error(f"{service_name}: {definition.host.name} exited with code {code}")
        logger.error("host died", extra={"context": {**context, "exit_code": code}})
        raise RuntimeError(f"{definition.host.name} exited with code {code}")
    code = process.stop(child, definition.stop_timeout)
    output.close()
    logger.info("host stopped", extra={"context": {**context, "exit_code": code}})
    info(f"{service_name}: stopped {definition.host.name} (exit code {code})")


def read_environment_file(path: Path) -> dict[str, str]:
    """Read `NAME=VALUE` lines (a systemd EnvironmentFile; `#` starts a comment line)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and name and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def __getattr__(name: str) -> type[Any]:
    """`hosts.supervisor.winservice.TradingSystem_Analytics`, as pythonservice.exe asks."""
    if name.startswith("TradingSystem_"):
        return service_class(name.replace("_", "-"))
    raise AttributeError(name)
