"""Versioned, checksummed model files: JSON numbers and lists only, so loading runs no code.

Layout (format version 1): `{"format": "tradingcore.model", "version": 1, "sha256": HEX,
"payload": {"models": {SYMBOL: state}}}` where each state is `tradingcore.analytics.state`
output and HEX is the SHA-256 of the payload's canonical JSON (sorted keys, no spaces).
Floats are written with `repr`, which reads back to the same bits.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.state import InvalidModelState, model_state, restore_model

FORMAT: Final = "tradingcore.model"
VERSION: Final = 1


class ModelFileError(Exception):
    """A model file is unreadable: wrong format or version, corrupt, or tampered with."""


def save_models(path: Path, models: Mapping[str, OnlineModel]) -> str:
    """Write the models atomically (temporary file, fsync, rename); return the checksum."""
    return save_states(path, {symbol: model_state(model) for symbol, model in models.items()})


def save_states(path: Path, states: Mapping[str, dict[str, Any]]) -> str:
    """Write `model_state` snapshots as a model file (atomically); return the checksum."""
    path = Path(path)
    payload = {"models": dict(states)}
    digest = hashlib.sha256(_canonical(payload)).hexdigest()
    document = {"format": FORMAT, "version": VERSION, "sha256": digest, "payload": payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(document, file, allow_nan=False, separators=(",", ":"))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    return digest


def load_models(path: Path) -> dict[str, OnlineModel]:
    """Read and verify a model file; raise ModelFileError saying what is wrong."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"model file {path}: cannot read it ({error.strerror})") from error
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError included
        raise ModelFileError(f"model file {path}: not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"model file {path}: not a tradingcore model file")
    if document.get("version") != VERSION:
        raise ModelFileError(
            f"model file {path}: format version {document.get('version')!r} is not supported "
            f"(this build reads version {VERSION})"
        )
    payload = document.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("models"), dict):
        raise ModelFileError(f"model file {path}: the payload is missing")
    if hashlib.sha256(_canonical(payload)).hexdigest() != document.get("sha256"):
        raise ModelFileError(f"model file {path}: checksum mismatch, the file is corrupt")
    models: dict[str, OnlineModel] = {}
    for symbol, state in payload["models"].items():
        try:
            models[symbol] = restore_model(state)
        except InvalidModelState as error:
            raise ModelFileError(f"model file {path}, symbol {symbol}: {error}") from error
    return models


def _canonical(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")
