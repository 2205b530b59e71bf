"""The API's `--broker profitdll` takes the secrets the environment lacks from the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.credentials import EncryptedFile
from hosts.api.host import build_broker


def test_the_profitdll_broker_is_built_with_the_stored_secrets_and_env_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "credentials.enc"
    EncryptedFile(path, lambda: "pass").set(
        {"activation_key": "K1", "user": "u1", "password": "P1", "routing_password": "R1"}
    )
    for name in ("PROFITDLL_KEY", "PROFITDLL_USER", "PROFITDLL_ROUTING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROFITDLL_PASSWORD", "from-ci")
    monkeypatch.setenv("PROFITDLL_DLL", str(tmp_path / "ProfitDLL.so"))  # not loaded until start
    monkeypatch.setenv("PROFITDLL_BROKER_ID", "3")
    monkeypatch.setenv("PROFITDLL_ACCOUNT", "12345")
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_BACKEND", "file")
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_PASSPHRASE", "pass")
    broker = build_broker("profitdll")
    credentials = broker.session.credentials  # type: ignore[attr-defined]
    assert (credentials.activation_key, credentials.user) == ("K1", "u1")
    assert credentials.password == "from-ci"
    assert broker.account.routing_password == "R1"  # type: ignore[attr-defined]
    assert "R1" not in repr(broker.account) and "from-ci" not in repr(credentials)  # type: ignore[attr-defined]


def test_a_wrong_passphrase_is_a_clear_broker_startup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "credentials.enc"
    EncryptedFile(path, lambda: "pass").set({"routing_password": "R1"})
    monkeypatch.delenv("PROFITDLL_ROUTING_PASSWORD", raising=False)
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_BACKEND", "file")
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_FILE", str(path))
    monkeypatch.setenv("TRADINGCORE_CREDENTIALS_PASSPHRASE", "wrong")
    with pytest.raises(ValueError, match="broker 'profitdll' cannot start: credentials file"):
        build_broker("profitdll")
