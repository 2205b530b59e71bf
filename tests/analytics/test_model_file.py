"""Model files: a round trip continues training exactly; tampered or foreign files are refused."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from adapters.models import ModelFileError, _canonical, load_models, save_models
from tests.analytics.test_model import trained_model
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.state import model_state


def continue_training(model: OnlineModel, seed: int = 9) -> OnlineModel:
    generator = np.random.default_rng(seed)
    for _ in range(2):
        model.update(generator.normal(size=(60, 5)), generator.integers(0, 3, 60))
    return model


def test_save_and_load_with_a_trained_model_continues_bit_for_bit(tmp_path: Path) -> None:
    original = trained_model()
    path = tmp_path / "model.json"
    save_models(path, {"WINZ25": original})
    loaded = load_models(path)["WINZ25"]
    assert loaded.version == original.version
    assert model_state(continue_training(loaded)) == model_state(continue_training(original))


def test_save_and_load_with_an_untrained_model_gives_an_untrained_model(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_models(path, {"WDOF26": OnlineModel(trained_model().config)})
    assert load_models(path)["WDOF26"].updates == 0


def tamper(path: Path, change: object) -> None:
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.json"
    save_models(path, {"WINZ25": trained_model()})
    return path


def test_load_with_a_tampered_payload_is_refused_as_corrupt(saved: Path) -> None:
    def change(document: dict) -> None:  # type: ignore[type-arg]
        document["payload"]["models"]["WINZ25"]["classifier"]["intercept"][0] += 1.0

    tamper(saved, change)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_models(saved)


def test_load_with_a_tampered_checksum_is_refused(saved: Path) -> None:
    tamper(saved, lambda document: document.update(sha256="0" * 64))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_models(saved)


def test_load_with_another_format_version_is_refused_naming_it(saved: Path) -> None:
    tamper(saved, lambda document: document.update(version=2))
    with pytest.raises(ModelFileError, match="format version 2 is not supported"):
        load_models(saved)


def test_load_with_a_pickle_file_is_refused_without_running_it(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_models(path)


def test_load_with_nan_in_the_file_is_refused(saved: Path) -> None:
    text = saved.read_text().replace('"t":', '"t":NaN,"ignored":', 1)
    saved.write_text(text)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_models(saved)


def test_load_with_a_wrong_shape_and_a_valid_checksum_is_refused(saved: Path) -> None:
    document = json.loads(saved.read_text())
    document["payload"]["models"]["WINZ25"]["classifier"]["coef"] = [[1.0, 2.0]]
    # A forger can recompute the checksum: the shape checks still refuse the state.
    document["sha256"] = hashlib.sha256(_canonical(document["payload"])).hexdigest()
    saved.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="coef must be finite"):
        load_models(saved)


def test_load_with_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot read"):
        load_models(tmp_path / "missing.json")


def test_host_with_a_model_file_of_absurd_window_and_valid_checksum_exits_2_naming_it(
    saved: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    document = json.loads(saved.read_text())
    document["payload"]["models"]["WINZ25"]["config"]["window"] = 10**12
    document["sha256"] = hashlib.sha256(_canonical(document["payload"])).hexdigest()
    saved.write_text(json.dumps(document))

    result = subprocess.run(
        [sys.executable, "-m", "hosts", "analytics", "--store", f"sqlite:///{tmp_path / 'e.db'}",
         "--listen", "127.0.0.1:0", "--metrics-port", "0", "--model", str(saved),
         "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert "window must be within [2, 100000]" in result.stderr
    assert "Traceback" not in result.stderr
