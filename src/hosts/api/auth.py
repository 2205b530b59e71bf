"""API keys: stored as SHA-256 digests only, compared in constant time, never logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

KEYS_ENV: Final = "TRADINGCORE_API_KEYS"
RELOAD_CHECK_SECONDS: Final = 0.5
"""How often, at most, the keys file is checked for a change (one stat call)."""
"""Environment variable holding the same JSON as a keys file (digests, never keys)."""

_NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Role(StrEnum):
    TRADER = "trader"
    ADMIN = "admin"


class KeyFileError(ValueError):
    """A keys file or variable is unreadable or holds an invalid entry."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's name, role and the one account it trades."""

    name: str
    role: Role
    account: str

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class StoredKey:
    name: str
    role: Role
    account: str
    sha256: str

    @property
    def principal(self) -> Principal:
        return Principal(self.name, self.role, self.account)


def digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class KeyRing:
    """The known keys; `authenticate` looks at every digest, so timing tells nothing.

    A ring loaded from a file follows it: when the file's modification time or size changes
    (checked at most every `RELOAD_CHECK_SECONDS`), the keys are read again, so a key removed
    from the file stops working, and a created one works, without a restart. A file that does
    not parse (caught mid-edit) leaves the keys as they were until it does.
    """

    def __init__(self, keys: Iterable[StoredKey] = ()) -> None:
        self.keys = tuple(keys)
        self._path: Path | None = None
        self._environ: Mapping[str, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0

    def authenticate(self, raw_key: str | None) -> Principal | None:
        if not raw_key:
            return None
        self._follow_file()
        candidate = digest(raw_key).encode()
        found: Principal | None = None
        for key in self.keys:
            if hmac.compare_digest(candidate, key.sha256.encode()):
                found = key.principal
        return found

    @classmethod
    def from_json(cls, data: Any, where: str) -> KeyRing:
        entries = data.get("keys") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise KeyFileError(f'{where}: expected {{"keys": [...]}}')
        return cls(_parse_entry(entry, where, index) for index, entry in enumerate(entries))

    @classmethod
    def load(cls, path: Path | None, environ: Mapping[str, str] | None = None) -> KeyRing:
        """Read keys from a file and/or the TRADINGCORE_API_KEYS variable."""
        environ = os.environ if environ is None else environ
        keys: list[StoredKey] = []
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise KeyFileError(f"keys file {path}: unreadable ({error})") from None
            keys.extend(cls.from_json(data, str(path)).keys)
        if environ.get(KEYS_ENV):
            try:
                data = json.loads(environ[KEYS_ENV])
            except ValueError as error:
                raise KeyFileError(f"{KEYS_ENV}: not JSON ({error})") from None
            keys.extend(cls.from_json(data, KEYS_ENV).keys)
        ring = cls(keys)
        ring._path, ring._environ, ring._stamp = path, dict(environ), _stamp(path)
        ring._checked = time.monotonic()
        return ring

    def _follow_file(self) -> None:
        path = self._path
        now = time.monotonic()
        if path is None or now - self._checked < RELOAD_CHECK_SECONDS:
            return
        self._checked = now
        stamp = _stamp(path)
        if stamp == self._stamp:
            return
        try:
            fresh = KeyRing.load(path, self._environ)
        except KeyFileError:
            return  # mid-edit: keep the keys until the file parses again
        self.keys, self._stamp = fresh.keys, stamp


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """The file's modification time and size, or None when there is no file."""
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _parse_entry(entry: Any, where: str, index: int) -> StoredKey:
    if not isinstance(entry, Mapping):
        raise KeyFileError(f"{where}: key #{index} is not an object")
    try:
        key = StoredKey(
            name=str(entry["name"]),
            role=Role(entry["role"]),
            account=str(entry["account"]),
            sha256=str(entry["sha256"]).lower(),
        )
    except KeyError as missing:
        raise KeyFileError(f"{where}: key #{index} lacks {missing}") from None
    except ValueError:
        raise KeyFileError(
            f"{where}: key #{index} has role {entry.get('role')!r}; use trader or admin"
        ) from None
    if not re.fullmatch(r"[0-9a-f]{64}", key.sha256):
        raise KeyFileError(f"{where}: key #{index} sha256 is not 64 hex digits")
    return key


def create_key(path: Path, name: str, role: Role, account: str | None = None) -> str:
    """Add a new key's digest to a keys file (mode 0600) and return the key, shown once."""
    if not _NAME.match(name):
        raise KeyFileError(f"invalid key name {name!r}: 1-64 letters, digits, '.', '_' or '-'")
    account = account or name
    if not _NAME.match(account):
        raise KeyFileError(f"invalid account {account!r}: 1-64 letters, digits, '.', '_' or '-'")
    existing = KeyRing.load(path, environ={}).keys if path.exists() else ()
    if any(key.name == name for key in existing):
        raise KeyFileError(f"keys file {path}: a key named {name!r} exists; pick another name")
    raw_key = f"tc_{secrets.token_urlsafe(32)}"
    stored = [*existing, StoredKey(name, role, account, digest(raw_key))]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    payload = {"keys": [{**asdict(key), "role": key.role.value} for key in stored]}
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return raw_key
