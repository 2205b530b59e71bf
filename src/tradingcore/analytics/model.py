"""The online model: StandardScaler + SGDClassifier(log_loss), updated in fixed batches.

Inference does not call sklearn's `predict_proba` (about 50-100 µs of overhead per call):
`probabilities` recomputes its one-vs-rest formula from the fitted parameters in plain
Python, in a fixed order of operations, so live and replay decisions are bit-identical;
it equals sklearn's `predict_proba` to within 1e-12 (BLAS sums in another order).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from tradingcore.analytics.config import MODEL_KIND, AnalyticsConfig
from tradingcore.analytics.labels import CLASSES

if TYPE_CHECKING:
    from sklearn.linear_model import SGDClassifier

FEATURE_COUNT: Final = 5
Probabilities = tuple[float, float, float]
FloatArray = npt.NDArray[np.float64]


def import_model_libraries() -> None:
    """Import what a model is built and read back with (sklearn: ~0.5-1.2 s) now.

    A host that decides on ticks calls this before it takes the first one: otherwise the
    first model it builds or receives from its trainer imports sklearn on the tick thread,
    and the ticks of that second queue up behind it (the first signals of a 10k ticks/s
    feed came 450 ms late). Commands that may never build a model leave it lazy.
    """
    import sklearn.linear_model
    import sklearn.preprocessing  # noqa: F401


def new_classifier(config: AnalyticsConfig) -> SGDClassifier:
    """Return the spec's classifier; its seeded RandomState is saved with the model.

    A RandomState instance rather than an int seed: sklearn then skips building a new
    generator several times per partial_fit (about 0.7 ms an update), and the generator's
    state continues from update to update identically live and in replay.
    """
    # sklearn is imported when a model is built: importing it costs ~1.2 s, which every
    # `tradingcore backtest --strategy` (no model) paid before its first trade.
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(
        loss="log_loss",
        learning_rate="adaptive",
        eta0=config.eta0,
        alpha=config.alpha,
        random_state=np.random.RandomState(config.random_state),
    )


class OnlineModel:
    """One symbol's model: scaler, classifier, update count and rolling accuracy."""

    def __init__(self, config: AnalyticsConfig) -> None:
        from sklearn.preprocessing import StandardScaler

        self.config = config
        self.scaler = StandardScaler()
        self.classifier = new_classifier(config)
        self.updates = 0
        self.accuracy_history: deque[tuple[int, int]] = deque(maxlen=config.accuracy_batches)
        self._parameters: tuple[tuple[float, ...], ...] = ()
        self.version = self._version()

    @property
    def trained(self) -> bool:
        return self.updates >= self.config.warmup_updates

    @property
    def accuracy(self) -> float | None:
        """Return the share of correct predictions over the recent batches, before training."""
        total = sum(count for _, count in self.accuracy_history)
        if not total:
            return None
        return sum(correct for correct, _ in self.accuracy_history) / total

    def update(self, features: FloatArray, labels: npt.NDArray[np.int64]) -> None:
        """Train on a batch and use the result at once (`train` then `apply`)."""
        self.train(features, labels)
        self.apply()

    def train(self, features: FloatArray, labels: npt.NDArray[np.int64]) -> None:
        """Score the batch with the model in use, then train on it (one partial_fit).

        Decisions keep using the previous parameters until `apply`, so training may run on
        another thread while ticks are decided.
        """
        if self.updates:
            predicted = np.argmax(self.probability_matrix(features), axis=1)
            correct = int(np.count_nonzero(np.asarray(CLASSES)[predicted] == labels))
            self.accuracy_history.append((correct, len(labels)))
        self.scaler.partial_fit(features)
        self.classifier.partial_fit(self.scaler.transform(features), labels, classes=CLASSES)

    def apply(self) -> None:
        """Start using the parameters of the last `train`: a new version."""
        self.updates += 1
        self.refresh()

    def refresh(self) -> None:
        """Cache the fitted parameters as Python floats and name the new version."""
        mean = self.scaler.mean_.tolist()
        scale = self.scaler.scale_.tolist()
        coef = self.classifier.coef_.tolist()
        intercept = self.classifier.intercept_.tolist()
        self._parameters = (tuple(mean), tuple(scale), *(tuple(row) for row in coef))
        self._intercept = tuple(intercept)
        self.version = self._version()

    def _version(self) -> str:
        return f"{MODEL_KIND}-{self.config.fingerprint()}+{self.updates}"

    def probabilities(self, row: tuple[float, ...]) -> Probabilities:
        """Return P(SELL), P(BUY), P(HOLD) for one feature row, as sklearn's OvR formula."""
        mean, scale, coef_sell, coef_buy, coef_hold = self._parameters
        x0 = (row[0] - mean[0]) / scale[0]
        x1 = (row[1] - mean[1]) / scale[1]
        x2 = (row[2] - mean[2]) / scale[2]
        x3 = (row[3] - mean[3]) / scale[3]
        x4 = (row[4] - mean[4]) / scale[4]
        b_sell, b_buy, b_hold = self._intercept
        sell = _sigmoid(
            x0 * coef_sell[0]
            + x1 * coef_sell[1]
            + x2 * coef_sell[2]
            + x3 * coef_sell[3]
            + x4 * coef_sell[4]
            + b_sell
        )
        buy = _sigmoid(
            x0 * coef_buy[0]
            + x1 * coef_buy[1]
            + x2 * coef_buy[2]
            + x3 * coef_buy[3]
            + x4 * coef_buy[4]
            + b_buy
        )
        hold = _sigmoid(
            x0 * coef_hold[0]
            + x1 * coef_hold[1]
            + x2 * coef_hold[2]
            + x3 * coef_hold[3]
            + x4 * coef_hold[4]
            + b_hold
        )
        total = sell + buy + hold
        if total == 0.0:
            return (1 / 3, 1 / 3, 1 / 3)
        return (sell / total, buy / total, hold / total)

    def probability_matrix(self, rows: FloatArray) -> FloatArray:
        """Return (n, 3) probabilities with numpy: the same formula, equal within a few ulp."""
        mean, scale, *coefficients = self._parameters
        scaled = [(rows[:, j] - mean[j]) / scale[j] for j in range(FEATURE_COUNT)]
        columns = []
        for coef, intercept in zip(coefficients, self._intercept, strict=True):
            z = scaled[0] * coef[0]
            for j in range(1, FEATURE_COUNT):
                z = z + scaled[j] * coef[j]
            z = z + intercept
            with np.errstate(over="ignore"):
                columns.append(1.0 / (1.0 + np.exp(-z)))
        result = np.stack(columns, axis=1)
        total = result.sum(axis=1)
        empty = total == 0.0
        result[empty] = 1.0
        total[empty] = 3.0
        return result / total[:, None]  # type: ignore[no-any-return]


def _sigmoid(z: float) -> float:
    # math.exp overflows beyond ~709; the sigmoid is 0.0 in float64 long before that.
    if z < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))
