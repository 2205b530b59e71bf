"""Stored ProfitDLL secrets reach the fake DLL and nothing else: not stdout, stderr, the JSONL
logs, /metrics, /health, a refusal or error message, nor the process's command line."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from adapters.profitdll.fakebuild import build_fake_dll

pytestmark = pytest.mark.xdist_group("fake_profitdll")  # the fake's state is process-wide

SECRETS = {
    "PROFITDLL_KEY": f"KEY{secrets.token_hex(8)}",
    "PROFITDLL_PASSWORD": f"PW{secrets.token_hex(8)}",
    "PROFITDLL_ROUTING_PASSWORD": f"RP{secrets.token_hex(8)}",
}
PASSPHRASE = f"PP{secrets.token_hex(8)}"
USER = "trader7"


@pytest.fixture(scope="module")
def fake_dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fake_dll(tmp_path_factory.mktemp("fake-profitdll"))


def clean_environment(**extra: str) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROFITDLL_", "TRADINGCORE_CREDENTIALS"))
    }
    return {**environ, "PYTHONUNBUFFERED": "1", **extra}


def store_credentials(path: Path) -> str:
    """`tradingcore credentials set --from-env`, as a user would in CI; return its output."""
    environment = clean_environment(
        **SECRETS, PROFITDLL_USER=USER, TRADINGCORE_CREDENTIALS_PASSPHRASE=PASSPHRASE
    )
    done = subprocess.run(
        [sys.executable, "-m", "hosts", "credentials", "set", "--from-env", "--backend", "file",
         "--file", str(path)],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "activation_key, user, password, routing_password" in done.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "hosts", "credentials", "show-names", "--backend", "file",
         "--file", str(path)],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0 and "password" in shown.stdout, shown.stderr
    return done.stdout + done.stderr + shown.stdout + shown.stderr


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def run_capture(
    dll: Path, directory: Path, credentials: Path, passphrase: str, **extra: str
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    environment = clean_environment(
        TRADINGCORE_CREDENTIALS_BACKEND="file",
        TRADINGCORE_CREDENTIALS_FILE=str(credentials),
        TRADINGCORE_CREDENTIALS_PASSPHRASE=passphrase,
        **extra,
    )
    command = [
        sys.executable, "-m", "hosts", "capture", "--source", "profitdll", "--dll", str(dll),
        "--symbols", "WINZ25", "--routing", "--metrics-port", "0",
        "--store", f"sqlite:///{directory / 'events.sqlite'}", "--ws-url", "ws://127.0.0.1:9",
        "--log-dir", str(directory / "logs"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
        cwd=directory,
    )  # fmt: skip
    return process, environment


def observe_running_host(process: subprocess.Popen[str], healthy: bool) -> list[str]:
    """Wait for the health the test expects; return /metrics, /health and the process's
    command line and environment as the OS shows them."""
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("metrics on "), line
    metrics_url = line.split()[-1]
    health_url = metrics_url.replace("/metrics", "/health")
    deadline = time.monotonic() + 30
    while fetch(health_url)[0] != (200 if healthy else 503) or (
        not healthy and "refused" not in fetch(health_url)[1]
    ):
        assert time.monotonic() < deadline, fetch(health_url)
        time.sleep(0.1)
    seen = [line, fetch(metrics_url)[1], fetch(health_url)[1]]
    proc = Path(f"/proc/{process.pid}")
    if proc.exists():  # Linux: what `ps` shows of a process
        seen.append(proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode())
        # The environment (`ps e`, the owner only) holds the passphrase by design when it is
        # given that way (docs/credentials.md), but never a stored secret.
        environ = proc.joinpath("environ").read_bytes().replace(b"\0", b" ").decode()
        assert not any(value in environ for value in SECRETS.values())
    return seen


def stop(process: subprocess.Popen[str]) -> list[str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    return [out, err]


def assert_no_secret(outputs: list[str], where: str) -> None:
    for text in outputs:
        for name, value in (*SECRETS.items(), ("passphrase", PASSPHRASE)):
            assert value not in text, f"{name} leaked into {where}: ...{text[:300]}"


def test_stored_credentials_log_the_host_in_and_never_appear_in_its_outputs(
    fake_dll: Path, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.enc"
    assert_no_secret([store_credentials(credentials)], "the credentials command's output")
    assert not any(value.encode() in credentials.read_bytes() for value in SECRETS.values())

    # Logged in with the stored values: no PROFITDLL_* variable is set for the host.
    host, environment = run_capture(fake_dll, tmp_path, credentials, PASSPHRASE)
    assert not any(key.startswith("PROFITDLL_") for key in environment)
    try:
        seen = observe_running_host(host, healthy=True)
    finally:
        seen_at_exit = stop(host)
    assert host.returncode == 0, seen_at_exit[1]

    # Refused by the DLL: the refusal is reported (health, log), the secrets are not.
    refused, _ = run_capture(
        fake_dll, tmp_path, credentials, PASSPHRASE, FAKE_PROFITDLL_BAD_CREDENTIALS="1"
    )
    try:
        seen += observe_running_host(refused, healthy=False)
    finally:
        seen += stop(refused)

    logs = [path.read_text() for path in (tmp_path / "logs").rglob("*.jsonl")]
    assert logs and any("capture started" in text for text in logs)
    assert_no_secret(seen + seen_at_exit + logs, "the capture host's outputs")


def test_a_wrong_passphrase_stops_the_host_with_one_line_naming_the_file(
    fake_dll: Path, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.enc"
    store_credentials(credentials)
    host, _ = run_capture(fake_dll, tmp_path, credentials, "not-the-passphrase")
    out, err = host.communicate(timeout=60)
    assert host.returncode == 2
    assert f"credentials file {credentials}: wrong passphrase" in err
    assert "Traceback" not in err
    logs = [path.read_text() for path in (tmp_path / "logs").rglob("*.jsonl")]
    assert_no_secret([out, err, *logs], "the error path")


def test_without_a_store_or_variables_the_host_says_how_to_provide_them(
    fake_dll: Path, tmp_path: Path
) -> None:
    host, _ = run_capture(fake_dll, tmp_path, tmp_path / "none.enc", PASSPHRASE)
    _, err = host.communicate(timeout=60)
    assert host.returncode == 2
    assert "tradingcore credentials set" in err and "PROFITDLL_KEY" in err


def test_the_health_report_holds_no_credential_field(fake_dll: Path, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.enc"
    store_credentials(credentials)
    host, _ = run_capture(fake_dll, tmp_path, credentials, PASSPHRASE)
    try:
        report = json.loads(observe_running_host(host, healthy=True)[2])
    finally:
        stop(host)
    text = json.dumps(report).lower()
    assert "password" not in text and "activation" not in text
