"""`tradingcore credentials`: set, rotate (values and passphrase), delete, show-names."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.credentials import EncryptedFile
from hosts.cli import main


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "credentials.enc"
    for name in ("PROFITDLL_KEY", "PROFITDLL_USER", "PROFITDLL_PASSWORD"):
        monkeypatch.setenv(name, f"{name.lower()}-value")
    monkeypatch.delenv("PROFITDLL_ROUTING_PASSWORD", raising=False)
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_BACKEND", "file")
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_PASSPHRASE", "first")
    return path


def stored(path: Path, passphrase: str) -> dict[str, str | None]:
    store = EncryptedFile(path, lambda: passphrase)
    return {name: store.get(name) for name in store.names()}


def test_set_from_env_then_show_names_lists_names_only(
    credentials: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credentials", "set", "--from-env"]) == 0
    assert main(["credentials", "show-names"]) == 0
    out = capsys.readouterr().out
    assert f"{credentials}: activation_key, user, password" in out
    assert "value" not in out
    assert stored(credentials, "first")["password"] == "profitdll_password-value"


def test_rotate_replaces_a_value_and_then_the_passphrase(
    credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["credentials", "set", "--from-env"])
    monkeypatch.setenv("PROFITDLL_PASSWORD", "changed at Nelogica")
    assert main(["credentials", "rotate", "password", "--from-env"]) == 0
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_NEW_PASSPHRASE", "second")
    assert main(["credentials", "rotate", "--passphrase"]) == 0
    assert stored(credentials, "second")["password"] == "changed at Nelogica"


def test_options_go_before_or_after_the_action_and_names_after_an_option(
    credentials: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`rotate --from-env password` was refused: "unrecognized arguments: password"."""
    elsewhere = tmp_path / "elsewhere.enc"
    assert main(["credentials", "--file", str(elsewhere), "set", "--from-env"]) == 0
    monkeypatch.setenv("PROFITDLL_PASSWORD", "changed at Nelogica")
    assert main(["credentials", "rotate", "--file", str(elsewhere), "--from-env", "password"]) == 0
    assert stored(elsewhere, "first")["password"] == "changed at Nelogica"
    assert not credentials.exists()  # --file, given before or after the action, was used


def test_rotating_or_naming_what_is_not_stored_fails_in_one_line(
    credentials: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["credentials", "set", "--from-env"])
    assert main(["credentials", "rotate", "routing_password", "--from-env"]) == 2
    assert main(["credentials", "set", "pin"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: nothing to rotate: routing_password not stored yet",
        "error: unknown credential 'pin': use one of activation_key, user, password, "
        "routing_password",
    ]


def test_delete_everything_removes_the_file(credentials: Path) -> None:
    main(["credentials", "set", "--from-env"])
    assert main(["credentials", "delete", "user"]) == 0
    assert sorted(stored(credentials, "first")) == ["activation_key", "password"]
    assert main(["credentials", "delete"]) == 0
    assert not credentials.exists()
