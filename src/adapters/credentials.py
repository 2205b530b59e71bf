"""ProfitDLL credentials encrypted at rest: the OS keyring, else a Fernet file (spec 9.1).

The OS keyring (Windows Credential Manager, macOS Keychain, the Secret Service) is used where
`keyring` finds one; elsewhere a file encrypted with Fernet under a key derived from a
passphrase by scrypt, written with mode 0600. Environment variables still override each value
(CI), and nothing here ever prints, logs or formats a value.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

NAMES: Final = ("activation_key", "user", "password", "routing_password")
"""What ProfitDLL needs: DLLInitializeLogin's three values and the routing (signature) password."""
VARIABLES: Final = {
    "activation_key": "PROFITDLL_KEY",
    "user": "PROFITDLL_USER",
    "password": "PROFITDLL_PASSWORD",
    "routing_password": "PROFITDLL_ROUTING_PASSWORD",
}
"""The environment variables that override the stored values (CI, containers)."""
SERVICE: Final = "tradingcore-profitdll"
"""The keyring service name the values are stored under."""
DEFAULT_FILE: Final = Path("data/credentials.enc")
FILE_VARIABLE: Final = "TRADINGCORE_CREDENTIALS_FILE"
BACKEND_VARIABLE: Final = "TRADINGCORE_CREDENTIALS_BACKEND"
PASSPHRASE_VARIABLE: Final = "TRADINGCORE_CREDENTIALS_PASSPHRASE"
SERVICE_VARIABLE: Final = "TRADINGCORE_SERVICE"
"""Set by the Windows service and the systemd unit that run a host: the service's name."""
SCRYPT_N: Final = 2**15
"""scrypt cost: ~0.1 s and 32 MiB per derivation, the `cryptography` docs' interactive figure."""
FORMAT_VERSION: Final = 1


def service_hint(environ: Mapping[str, str]) -> str:
    """What a host run as a service adds when credentials are missing ("" otherwise).

    A service runs under its own account (LocalSystem on Windows), whose keyring is not the one
    `tradingcore credentials set` wrote to in the user's session.
    """
    name = environ.get(SERVICE_VARIABLE)
    if not name:
        return ""
    return (
        f"; this host runs as the service {name}, under the service's account, which does not "
        "see credentials stored in your own keyring: see docs/credentials.md, Windows services"
    )


class CredentialError(Exception):
    """The credential store cannot be read or written; the message never holds a secret."""


class CredentialStore(Protocol):
    @property
    def location(self) -> str:
        """Where the values are, for messages: `keyring (Windows Credential Manager)`, a path."""
        ...

    def get(self, name: str) -> str | None: ...

    def set(self, values: Mapping[str, str]) -> None: ...

    def delete(self, names: list[str]) -> list[str]: ...

    def names(self) -> list[str]: ...


def check_name(name: str) -> str:
    if name not in NAMES:
        raise CredentialError(f"unknown credential {name!r}: use one of {', '.join(NAMES)}")
    return name


class KeyringStore:
    """One keyring entry per name under the service `tradingcore-profitdll`."""

    def __init__(self, backend: Any = None) -> None:
        import keyring

        self.backend = backend or keyring.get_keyring()
        self.location = f"keyring ({getattr(self.backend, 'name', type(self.backend).__name__)})"

    def get(self, name: str) -> str | None:
        value: str | None = self.backend.get_password(SERVICE, check_name(name))
        return value

    def set(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self.backend.set_password(SERVICE, check_name(name), value)

    def delete(self, names: list[str]) -> list[str]:
        import keyring.errors

        deleted = []
        for name in names:
            try:
                self.backend.delete_password(SERVICE, check_name(name))
                deleted.append(name)
            except keyring.errors.PasswordDeleteError:
                pass
        return deleted

    def names(self) -> list[str]:
        return [name for name in NAMES if self.get(name) is not None]


@dataclass
class EncryptedFile:
    """A JSON file: scrypt parameters, salt, and a Fernet token of the values (mode 0600)."""

    path: Path
    passphrase: Callable[[], str]
    """Asked only when the file is read or written (a prompt or the environment)."""

    @property
    def location(self) -> str:
        return str(self.path)

    def get(self, name: str) -> str | None:
        return self._read().get(check_name(name))

    def set(self, values: Mapping[str, str]) -> None:
        for name in values:
            check_name(name)
        self._write({**self._read(), **values})

    def delete(self, names: list[str]) -> list[str]:
        stored = self._read()
        deleted = [name for name in names if stored.pop(check_name(name), None) is not None]
        if stored:
            self._write(stored)
        elif self.path.exists():
            self.path.unlink()
        return deleted

    def names(self) -> list[str]:
        stored = self._read()
        return [name for name in NAMES if name in stored]

    def rekey(self, new_passphrase: str) -> None:
        """Encrypt the stored values under a new passphrase (and a new salt)."""
        values = self._read()
        self.passphrase = lambda: new_passphrase
        self._write(values)

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        from cryptography.fernet import InvalidToken

        try:
            envelope = json.loads(self.path.read_text(encoding="utf-8"))
            salt = base64.b64decode(envelope["salt"])
            parameters = envelope["n"], envelope["r"], envelope["p"]
            token = envelope["token"].encode()
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CredentialError(f"credentials file {self.path}: unreadable ({error})") from None
        try:
            plain = _fernet(self.passphrase(), salt, *parameters).decrypt(token)
        except InvalidToken:
            raise CredentialError(
                f"credentials file {self.path}: wrong passphrase, or the file was altered"
            ) from None
        values: dict[str, str] = json.loads(plain)
        return values

    def _write(self, values: Mapping[str, str]) -> None:
        salt = secrets.token_bytes(16)
        token = _fernet(self.passphrase(), salt, SCRYPT_N, 8, 1).encrypt(
            json.dumps(dict(values)).encode()
        )
        envelope = {
            "format": FORMAT_VERSION,
            "kdf": "scrypt",
            "salt": base64.b64encode(salt).decode(),
            "n": SCRYPT_N,
            "r": 8,
            "p": 1,
            "cipher": "fernet",
            "token": token.decode(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".credentials-")
        try:
            os.chmod(temporary, 0o600)  # mkstemp creates 0600 already; say it, Windows too
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(envelope, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _fernet(passphrase: str, salt: bytes, n: int, r: int, p: int) -> Any:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if not passphrase:
        raise CredentialError("an empty passphrase cannot protect the credentials file")
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def keyring_available() -> bool:
    """True when `keyring` found a real OS keyring (not its fail, null or plaintext backends)."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return False
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return "plaintext" not in type(backend).__module__.lower()


def passphrase_from(
    environ: Mapping[str, str], *, prompt: bool, path: Path | None = None
) -> Callable[[], str]:
    """Return a function giving the file's passphrase: the environment, else a prompt (which
    names the file, and says when it is a new one's: the passphrase is being chosen)."""
    cache: list[str] = []

    def passphrase() -> str:
        if not cache:
            value = environ.get(PASSPHRASE_VARIABLE, "")
            if not value and prompt:
                import getpass

                value = getpass.getpass(prompt_text(path))
            if not value:
                raise CredentialError(
                    f"the credentials file is encrypted: set {PASSPHRASE_VARIABLE} "
                    "or run the command in a terminal to be asked"
                )
            cache.append(value)
        return cache[0]

    return passphrase


def prompt_text(path: Path | None) -> str:
    """The passphrase prompt: `passphrase of FILE: `, or for a file not written yet
    `choose a passphrase for FILE (it encrypts the values; keep it): `."""
    if path is None:
        return "credentials passphrase: "
    if not path.exists():
        return f"choose a passphrase for {path} (it encrypts the values; keep it): "
    return f"passphrase of {path}: "


def open_store(
    environ: Mapping[str, str] | None = None,
    *,
    backend: str | None = None,
    path: Path | None = None,
    prompt: bool = False,
) -> CredentialStore:
    """Open the store: `backend` keyring, file or auto (the keyring where there is one)."""
    environ = os.environ if environ is None else environ
    chosen = backend or environ.get(BACKEND_VARIABLE) or "auto"
    if chosen not in ("auto", "keyring", "file"):
        raise CredentialError(f"unknown credentials backend {chosen!r}: use auto, keyring or file")
    if chosen == "keyring" or (chosen == "auto" and keyring_available()):
        if not keyring_available():
            raise CredentialError("no OS keyring is available here: use --backend file")
        return KeyringStore()
    file = path or Path(environ.get(FILE_VARIABLE) or DEFAULT_FILE)
    return EncryptedFile(file, passphrase_from(environ, prompt=prompt, path=file))


def with_stored_credentials(
    environ: Mapping[str, str], names: tuple[str, ...] = NAMES, *, prompt: bool = False
) -> dict[str, str]:
    """Return the environment with each missing PROFITDLL_* value filled from the store.

    A variable that is set wins (CI); the store is opened only when one is missing, and a
    value it does not hold stays missing (the caller names the variable in its error).
    """
    merged = dict(environ)
    missing = [name for name in names if not environ.get(VARIABLES[name])]
    if not missing:
        return merged
    store = open_store(environ, prompt=prompt)
    if isinstance(store, EncryptedFile) and not store.path.exists():
        return merged
    for name in missing:
        value = store.get(name)
        if value:
            merged[VARIABLES[name]] = value
    return merged
