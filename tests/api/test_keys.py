"""API keys: created once, stored as digests, loaded from a file or the environment."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hosts.api.auth import KEYS_ENV, KeyFileError, KeyRing, Role, create_key, digest


def test_create_key_stores_only_its_digest_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"

    key = create_key(path, "alice", Role.TRADER)

    text = path.read_text()
    assert key not in text
    assert digest(key) in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    principal = KeyRing.load(path, environ={}).authenticate(key)
    assert principal is not None and (principal.name, principal.account) == ("alice", "alice")


def test_create_key_with_an_existing_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key(path, "alice", Role.TRADER)

    with pytest.raises(KeyFileError, match="'alice' exists"):
        create_key(path, "alice", Role.ADMIN)


def test_keys_from_the_environment_add_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key(path, "alice", Role.TRADER)
    entry = {"name": "ops", "role": "admin", "account": "ops", "sha256": digest("secret")}

    ring = KeyRing.load(path, environ={KEYS_ENV: json.dumps({"keys": [entry]})})

    principal = ring.authenticate("secret")
    assert principal is not None and principal.is_admin
    assert ring.authenticate("wrong") is None
    assert ring.authenticate("") is None


def test_keys_file_with_a_bad_role_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"name": "x", "role": "root", "account": "x",
                                          "sha256": "0" * 64}]}))  # fmt: skip

    with pytest.raises(KeyFileError, match="key #0 has role 'root'"):
        KeyRing.load(path, environ={})
