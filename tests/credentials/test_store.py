"""The credential store: a Fernet file under a scrypt key (mode 0600), a keyring, env overrides."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from adapters.credentials import (
    CredentialError,
    EncryptedFile,
    KeyringStore,
    open_store,
    with_stored_credentials,
)

SECRETS = {"activation_key": "KEY-5f1d", "user": "trader7", "password": "pw-93ac"}


def file_store(path: Path, passphrase: str = "correct horse") -> EncryptedFile:
    return EncryptedFile(path, lambda: passphrase)


def test_values_round_trip_through_a_file_that_holds_none_of_them_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path).set(SECRETS)
    raw = path.read_bytes()
    assert not any(value.encode() in raw for value in SECRETS.values())
    assert json.loads(raw)["kdf"] == "scrypt"
    assert {name: file_store(path).get(name) for name in SECRETS} == SECRETS
    assert file_store(path).names() == ["activation_key", "user", "password"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path).set(SECRETS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_wrong_passphrase_or_an_altered_file_is_refused_without_the_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path).set(SECRETS)
    with pytest.raises(CredentialError, match="wrong passphrase") as refused:
        file_store(path, "wrong").get("password")
    assert "pw-93ac" not in str(refused.value)
    envelope = json.loads(path.read_text())
    envelope["token"] = envelope["token"][:-8] + "AAAAAAAA"
    path.write_text(json.dumps(envelope))
    with pytest.raises(CredentialError, match="altered"):
        file_store(path).get("password")


def test_rekey_encrypts_under_the_new_passphrase_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path, "old").set(SECRETS)
    file_store(path, "old").rekey("new")
    assert file_store(path, "new").get("password") == "pw-93ac"
    with pytest.raises(CredentialError):
        file_store(path, "old").get("password")


def test_deleting_every_value_removes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    store = file_store(path)
    store.set(SECRETS)
    assert store.delete(["user", "routing_password"]) == ["user"]
    assert store.names() == ["activation_key", "password"]
    store.delete(["activation_key", "password"])
    assert not path.exists()


def test_unknown_names_and_empty_passphrases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="unknown credential 'pin'"):
        file_store(tmp_path / "c.enc").set({"pin": "1"})
    with pytest.raises(CredentialError, match="empty passphrase"):
        file_store(tmp_path / "c.enc", "").set({"user": "x"})


def test_environment_variables_win_over_the_store_which_fills_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path, "pass").set(SECRETS)
    environ = {
        "TRADINGCORE_CREDENTIALS_BACKEND": "file",
        "TRADINGCORE_CREDENTIALS_FILE": str(path),
        "TRADINGCORE_CREDENTIALS_PASSPHRASE": "pass",
        "PROFITDLL_PASSWORD": "from-ci",
    }
    merged = with_stored_credentials(environ)
    assert merged["PROFITDLL_PASSWORD"] == "from-ci"
    assert (merged["PROFITDLL_KEY"], merged["PROFITDLL_USER"]) == ("KEY-5f1d", "trader7")
    assert "PROFITDLL_ROUTING_PASSWORD" not in merged  # not stored: stays missing


def test_without_a_passphrase_the_store_names_the_variable_to_set(tmp_path: Path) -> None:
    path = tmp_path / "credentials.enc"
    file_store(path, "pass").set(SECRETS)
    environ = {"TRADINGCORE_CREDENTIALS_BACKEND": "file", "TRADINGCORE_CREDENTIALS_FILE": str(path)}
    with pytest.raises(CredentialError, match="TRADINGCORE_CREDENTIALS_PASSPHRASE"):
        with_stored_credentials(environ)


def test_every_variable_set_never_opens_the_store(tmp_path: Path) -> None:
    environ = {
        "TRADINGCORE_CREDENTIALS_BACKEND": "nonsense",  # would fail if the store were opened
        "PROFITDLL_KEY": "k",
        "PROFITDLL_USER": "u",
        "PROFITDLL_PASSWORD": "p",
        "PROFITDLL_ROUTING_PASSWORD": "r",
    }
    assert with_stored_credentials(environ)["PROFITDLL_KEY"] == "k"


def test_auto_uses_the_encrypted_file_where_no_os_keyring_exists(tmp_path: Path) -> None:
    store = open_store({"TRADINGCORE_CREDENTIALS_FILE": str(tmp_path / "c.enc")})
    assert isinstance(store, EncryptedFile)  # this CI box has no Secret Service running
    with pytest.raises(CredentialError, match="no OS keyring"):
        open_store({}, backend="keyring")


class DictKeyring(KeyringBackend):
    """keyring's own extension point, backed by a dict (the OS keyrings are not here)."""

    priority = -1  # type: ignore[assignment]  # never chosen by keyring.get_keyring()

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def test_the_keyring_store_keeps_one_entry_per_name_under_the_service() -> None:
    backend = DictKeyring()
    store = KeyringStore(backend)
    store.set(SECRETS)
    assert backend.entries[("tradingcore-profitdll", "password")] == "pw-93ac"
    assert store.names() == ["activation_key", "user", "password"]
    assert store.delete(["password", "routing_password"]) == ["password"]
    assert store.get("password") is None


def test_the_passphrase_prompt_names_the_file_and_says_when_it_is_chosen(tmp_path: Path) -> None:
    from adapters.credentials import prompt_text

    path = tmp_path / "credentials.enc"
    new = prompt_text(path)
    path.write_bytes(b"x")

    assert new == f"choose a passphrase for {path} (it encrypts the values; keep it): "
    assert prompt_text(path) == f"passphrase of {path}: "
