"""Model state as plain dicts of numbers and lists: what a model file holds, no code."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from tradingcore.analytics.config import MODEL_KIND, AnalyticsConfig
from tradingcore.analytics.labels import CLASSES
from tradingcore.analytics.model import FEATURE_COUNT, OnlineModel
from tradingcore.domain.errors import DomainError

STATE_VERSION: Final = 1
MT_KEYS: Final = 624


class InvalidModelState(DomainError):
    """A model state is not one this build can restore (wrong kind, version or shape)."""


def model_state(model: OnlineModel) -> dict[str, Any]:
    """Return everything needed to continue the model exactly, as JSON-ready values."""
    state: dict[str, Any] = {
        "kind": MODEL_KIND,
        "state_version": STATE_VERSION,
        "config": model.config.to_dict(),
        "updates": model.updates,
        "accuracy_history": [list(item) for item in model.accuracy_history],
        "scaler": None,
        "classifier": None,
    }
    if model.updates:
        scaler, classifier = model.scaler, model.classifier
        state["scaler"] = {
            "mean": scaler.mean_.tolist(),
            "var": scaler.var_.tolist(),
            "scale": scaler.scale_.tolist(),
            "n_samples_seen": float(scaler.n_samples_seen_),
        }
        _, keys, position, has_gauss, cached = classifier.random_state.get_state()
        state["classifier"] = {
            "coef": classifier.coef_.tolist(),
            "intercept": classifier.intercept_.tolist(),
            "t": float(classifier.t_),
            "n_iter": float(classifier.n_iter_),
            "classes": [int(label) for label in classifier.classes_],
            "random_state": {
                "keys": [int(key) for key in keys],
                "position": int(position),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached),
            },
        }
    return state


def restore_model(state: Mapping[str, Any]) -> OnlineModel:
    """Rebuild a model from `model_state` output; raise InvalidModelState naming the problem."""
    try:
        return _restore(state)
    except InvalidModelState:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, DomainError) as error:
        raise InvalidModelState(f"invalid model state: {type(error).__name__}: {error}") from None


def _restore(state: Mapping[str, Any]) -> OnlineModel:
    if state.get("kind") != MODEL_KIND:
        raise InvalidModelState(
            f"invalid model state: kind {state.get('kind')!r}, this build reads {MODEL_KIND!r}"
        )
    if state.get("state_version") != STATE_VERSION:
        raise InvalidModelState(
            f"invalid model state: version {state.get('state_version')!r} is not supported "
            f"(this build reads version {STATE_VERSION})"
        )
    model = OnlineModel(AnalyticsConfig.from_dict(dict(state["config"])))
    updates = int(state["updates"])
    for correct, count in state["accuracy_history"]:
        model.accuracy_history.append((int(correct), int(count)))
    if updates == 0:
        return model
    scaler_state, classifier_state = state["scaler"], state["classifier"]
    scaler = model.scaler
    scaler.mean_ = _vector(scaler_state["mean"], "scaler mean")
    scaler.var_ = _vector(scaler_state["var"], "scaler var")
    scaler.scale_ = _vector(scaler_state["scale"], "scaler scale")
    scaler.n_samples_seen_ = np.float64(scaler_state["n_samples_seen"])
    scaler.n_features_in_ = FEATURE_COUNT
    classifier = model.classifier
    if [int(label) for label in classifier_state["classes"]] != list(CLASSES):
        raise InvalidModelState(f"invalid model state: classes must be {list(CLASSES)}")
    coef = np.array(classifier_state["coef"], dtype=np.float64, order="C")
    if coef.shape != (len(CLASSES), FEATURE_COUNT) or not np.all(np.isfinite(coef)):
        raise InvalidModelState(f"invalid model state: coef must be finite, shaped {coef.shape}")
    classifier.coef_ = coef
    classifier.intercept_ = _vector(classifier_state["intercept"], "intercept", len(CLASSES))
    classifier.classes_ = np.array(CLASSES)
    classifier.t_ = float(classifier_state["t"])
    classifier.n_iter_ = float(classifier_state["n_iter"])
    classifier.n_features_in_ = FEATURE_COUNT
    generator = classifier_state["random_state"]
    keys = np.array(generator["keys"], dtype=np.uint32)
    if keys.shape != (MT_KEYS,):
        raise InvalidModelState(f"invalid model state: random state needs {MT_KEYS} keys")
    classifier.random_state.set_state(
        (
            "MT19937",
            keys,
            int(generator["position"]),
            int(generator["has_gauss"]),
            float(generator["cached_gaussian"]),
        )
    )
    model.updates = updates
    model.refresh()
    return model


def _vector(values: Any, what: str, size: int = FEATURE_COUNT) -> np.ndarray[Any, Any]:
    vector = np.array(values, dtype=np.float64)
    if vector.shape != (size,) or not all(math.isfinite(value) for value in vector.tolist()):
        raise InvalidModelState(f"invalid model state: {what} must be {size} finite numbers")
    return vector
