"""API keys for a supervised system: the operator's (first run) and the analytics host's.

The operator's key is made once, by `tradingcore api --create-key`, and kept in a file only
its owner can read; its path is printed, never the key. The analytics host posts signals with
a key made fresh for each `up`: the API learns its digest and analytics the key itself, each
through its own environment only, so neither lands in a file or a log.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

KEYS_ENV: Final = "TRADINGCORE_API_KEYS"
ACCOUNT: Final = "operator"
"""The account the operator watches and the analytics host's signals trade."""


class KeySetupError(RuntimeError):
    """The operator's key could not be created."""


def ensure_operator_key(keys_file: Path, key_file: Path) -> str:
    """Create the operator's admin key on first run; return a line saying where it is."""
    if key_file.exists():
        return f"operator API key: in {key_file}"
    if _has_keys(keys_file):
        return f"API keys: your own, in {keys_file}"
    key = create_key(keys_file, "operator", "admin")
    write_private(key_file, key + "\n")
    return f"operator API key (admin, created now): in {key_file}; keep it private"


def ensure_service_key(keys_file: Path, environment_file: Path, variable: str) -> str:
    """Give the analytics service a key of its own, as `VARIABLE=KEY` in a private file."""
    if environment_file.exists():
        return f"analytics service API key: in {environment_file}"
    key = create_key(keys_file, f"analytics-service-{secrets.token_hex(3)}", "trader")
    write_private(environment_file, f"{variable}={key}\n")
    return f"analytics service API key (created now): in {environment_file}"


def create_key(keys_file: Path, name: str, role: str) -> str:
    """Add a key to the keys file with `tradingcore api --create-key`; return the key."""
    result = subprocess.run(
        [sys.executable, "-m", "hosts.cli", "api", "--keys-file", str(keys_file),
         "--create-key", name, "--role", role, "--account", ACCOUNT],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise KeySetupError(result.stderr.strip() or "tradingcore api --create-key failed")
    return result.stdout.strip().splitlines()[-1]


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 0600 where modes exist)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def analytics_key(environ: Mapping[str, str]) -> tuple[str, str]:
    """Return (a fresh key, the API's TRADINGCORE_API_KEYS value that accepts it)."""
    key = f"tc_{secrets.token_urlsafe(32)}"
    entry = {
        "name": "analytics",
        "role": "trader",
        "account": ACCOUNT,
        "sha256": hashlib.sha256(key.encode()).hexdigest(),
    }
    existing: list[object] = []
    if environ.get(KEYS_ENV):
        try:
            existing = list(json.loads(environ[KEYS_ENV]).get("keys", []))
        except (ValueError, AttributeError, TypeError):
            raise KeySetupError(f'{KEYS_ENV} is not {{"keys": [...]}} JSON') from None
    return key, json.dumps({"keys": [*existing, entry]})


def _has_keys(keys_file: Path) -> bool:
    try:
        data = json.loads(keys_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("keys"))
