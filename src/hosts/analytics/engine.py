"""The live engine: valid tick and book messages in, feature rows and signals into the store.

Runs on one thread (the WebSocket server's). Time comes from the ticks: the store's clock is
moved to each tick's timestamp, so a replay of the same ticks stores the same events.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from adapters.websocket.messages import BookMessage, TickMessage
from adapters.websocket.server import Message, MessageRejected
from hosts.analytics.features_log import FeatureBuffer
from hosts.analytics.metrics import AnalyticsMetrics
from hosts.analytics.writer import FailureHandler, StoreWriter, StoreWrites
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.decision import SignalDecision
from tradingcore.analytics.features import AGGRESSOR_SIGNS
from tradingcore.analytics.labels import threshold_units
from tradingcore.analytics.model import FloatArray, OnlineModel
from tradingcore.analytics.pipeline import SymbolPipeline, Trainer
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.errors import DomainError
from tradingcore.domain.instruments import infer_instrument
from tradingcore.domain.signal import Signal
from tradingcore.domain.tape import session_of
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time
from tradingcore.domain.values import PRICE_SCALE, Symbol, price_to_units, to_decimal
from tradingcore.ports.clock import ManualClock

DEFAULT_MAX_SYMBOLS: Final = 1_000
"""Symbols followed at once. Each costs about 12 KB (pipeline, model, recent ids): unbounded,
20,000 made-up but valid symbols cost 176-237 MB. At the maximum a new symbol takes the place
of one idle for `IDLE_SYMBOL_MS`, or is refused (`too_many_symbols`): an active symbol's
features and model are never reset to make room."""
IDLE_SYMBOL_MS: Final = 7 * 86_400_000
"""A symbol without a tick for this long (feed time, behind the newest tick seen) may be let go
for a new one: an expired contract, not a quiet afternoon or a long weekend."""
RECENT_TRADE_IDS: Final = 50_000
"""Trade ids remembered per symbol to refuse a message sent twice (e.g. after a reconnect)."""

SignalCallback = Callable[[Signal], None]
"""Called on the writer's thread with each stored BUY/SELL signal."""
ProgressCallback = Callable[[str, int, int, int], None]
"""(symbol, tick timestamp ms, tick trade id, signals put to the writer so far)."""
WriterFactory = Callable[[SignalCallback, FailureHandler], StoreWrites]
"""Builds the store writer from the engine's `on_stored` and `on_failure` callbacks."""


@dataclass(slots=True)
class SymbolState:
    symbol: Symbol
    pipeline: SymbolPipeline
    book_delta: int = 0
    """Ask minus bid quantity of the last book seen; 0 until a book arrives."""
    last_timestamp_ms: int = -1
    recent_ids: set[int] = field(default_factory=set)
    recent_order: deque[int] = field(default_factory=deque)


class HostTrainer(Trainer, Protocol):
    """A trainer the host starts and stops (a thread, or a process of its own)."""

    def close(self) -> None: ...


class ThreadTrainer:
    """Trains models on one background thread, so a partial_fit never stalls the ticks."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="model-trainer")

    def train(
        self, model: OnlineModel, rows: FloatArray, labels: npt.NDArray[np.int64]
    ) -> Callable[[], None]:
        future = self._executor.submit(model.train, rows, labels)
        return future.result

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def signal_body(signal: Signal) -> dict[str, object]:
    """Return the JSON body the API host receives on POST /api/v1/signals."""
    return {
        "signal_id": str(signal.id),
        "symbol": signal.symbol.ticker,
        "direction": signal.direction.value,
        "confidence": signal.confidence,
        "features": dict(signal.features),
        "model_version": signal.model_version,
        "tick_trade_id": signal.tick_trade_id,
        "tick_timestamp_ms": signal.tick_timestamp_ms,
        "price": signal.price,
    }


class AnalyticsEngine:
    """Per-symbol pipelines over one store; call `handle` for each valid message.

    Store writes go to `writer(on_stored, on_failure)` if given (see `writer_process`), else
    to a `StoreWriter` thread over `app`.
    """

    def __init__(
        self,
        app: TradingApplication | None,
        clock: ManualClock,
        config: AnalyticsConfig,
        *,
        models: dict[str, OnlineModel] | None = None,
        metrics: AnalyticsMetrics | None = None,
        logger: logging.Logger | None = None,
        feature_batch: int = 1_000,
        on_signal: SignalCallback | None = None,
        on_update: Callable[[str, OnlineModel], None] | None = None,
        on_progress: ProgressCallback | None = None,
        writer: WriterFactory | None = None,
        trainer: HostTrainer | None = None,
        wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        max_symbols: int = DEFAULT_MAX_SYMBOLS,
    ) -> None:
        if max_symbols < 1:
            raise ValueError(f"max symbols {max_symbols} must be >= 1")
        self.max_symbols = max_symbols
        self.clock = clock
        self.wall_clock_ms = wall_clock_ms
        """The host's wall clock, only to refuse ticks stamped implausibly far ahead of it."""
        self.config = config
        self.models: dict[str, OnlineModel] = dict(models or {})
        self.metrics = metrics or AnalyticsMetrics()
        self.logger = logger or logging.getLogger("tradingcore.analytics")
        self.trainer: HostTrainer = trainer or ThreadTrainer()
        self.app = app
        self.writer: StoreWrites
        if writer is not None:
            self.writer = writer(self._stored, self._failed)
        elif app is not None:
            self.writer = StoreWriter(app, config.pipeline_version, self._stored, self._failed)
        else:
            raise ValueError("AnalyticsEngine needs an application or a writer")
        self.features = FeatureBuffer(feature_batch, self.writer.put)
        self.on_signal = on_signal
        self.on_update = on_update
        self.on_progress = on_progress
        """Told after each tick: (symbol, tick time, trade id, signals put so far). Every
        signal of that tick and the ones before it is then among the first `put` handed to the
        writer, which stores them, and calls `on_signal`, in that order."""
        self.decisions = 0
        """Signals decided (each then stored by the writer)."""
        self.signals_put = 0
        """Signals handed to the writer."""
        self._symbols: dict[str, SymbolState] = {}
        """By ticker as sent and as canonical: several keys can share one state."""
        self._followed = 0
        self.released = 0
        """Idle symbols let go for new ones."""
        self._newest_ms = -1
        self._no_release_before = -1
        """Feed time before which no followed symbol can be idle long enough to let go."""

    def handle(self, message: Message, arrived: float) -> None:
        """Process one valid message; raise MessageRejected for a refused one."""
        if isinstance(message, TickMessage):
            self.on_tick(message, arrived)
        else:
            self.on_book(message)

    def on_book(self, message: BookMessage) -> None:
        self._state(message.symbol).book_delta = message.ask_quantity - message.bid_quantity

    def on_tick(self, message: TickMessage, arrived: float) -> SignalDecision | None:
        state = self._state(message.symbol)
        timestamp = message.timestamp
        implausible = implausible_time(timestamp, self.wall_clock_ms())
        if implausible is not None:  # before anything moves: one such tick must not blind us
            raise MessageRejected(TIMESTAMP_IMPLAUSIBLE, f"{message.symbol} tick: {implausible}")
        if timestamp < state.last_timestamp_ms:
            raise MessageRejected(
                "timestamp_backwards",
                f"{message.symbol} tick at {timestamp} is before the last one "
                f"({state.last_timestamp_ms})",
            )
        trade_id = message.trade_id
        pipeline = state.pipeline
        if trade_id is None:
            trade_id = pipeline.stats.ticks + 1
        elif trade_id in state.recent_ids:
            raise MessageRejected("duplicate_trade_id", f"{message.symbol} trade {trade_id}")
        units = _price_units(message.price)
        self.clock.set_epoch_ms(timestamp)
        state.last_timestamp_ms = timestamp
        self._newest_ms = max(self._newest_ms, timestamp)
        self._remember(state, trade_id)
        row, decision, updated = pipeline.on_tick(
            trade_id,
            timestamp,
            units,
            message.volume,
            AGGRESSOR_SIGNS[message.aggressor],
            state.book_delta,
        )
        self.features.add(
            state.symbol, session_of(timestamp), trade_id, timestamp, row, self.clock.now()
        )
        if decision is not None:
            self._record(state.symbol, decision)
        if self.on_progress is not None:
            self.on_progress(state.symbol.ticker, timestamp, trade_id, self.signals_put)
        if updated:
            self._updated(state.symbol, pipeline.model)
        self.metrics.ticks.inc()
        self.metrics.latency.observe(time.perf_counter() - arrived)
        self.metrics.last_tick_time = time.time()
        return decision

    def flush(self) -> None:
        """Hand the buffered feature rows to the writer now (called on idle and at shutdown)."""
        self.features.flush_all(self.clock.now())

    def finish(self) -> None:
        """Apply the model updates still training (the end of the stream, as a replay does)."""
        for state in {id(state): state for state in self._symbols.values()}.values():
            if state.pipeline.finish():
                self._updated(state.symbol, state.pipeline.model)

    def close(self, timeout: float = 30.0) -> None:
        """Finish the models, flush, wait until the writer has stored everything, stop."""
        self.finish()
        self.flush()
        self.writer.close(timeout)
        self.trainer.close()

    def _state(self, ticker: str) -> SymbolState:
        state = self._symbols.get(ticker)
        if state is None:
            try:
                symbol = Symbol(ticker)
                instrument = infer_instrument(symbol)
            except DomainError as error:
                raise MessageRejected("invalid_symbol", str(error)) from None
            # `winz25` and `WINZ25` are one symbol: one state, one model.
            state = self._symbols.get(symbol.ticker)
            if state is None:
                if self._followed >= self.max_symbols and not self._release_idle():
                    raise MessageRejected(
                        "too_many_symbols",
                        f"{symbol.ticker}: this host follows at most {self.max_symbols} symbols",
                    )
                self._followed += 1
                model = self.models.get(symbol.ticker)
                if model is None:
                    model = self.models[symbol.ticker] = OnlineModel(self.config)
                threshold = threshold_units(instrument, model.config.threshold_ticks)
                pipeline = SymbolPipeline(model.config, model, threshold, self.trainer)
                state = self._symbols[symbol.ticker] = SymbolState(symbol, pipeline)
            if len(self._symbols) < 4 * self.max_symbols:  # spellings (`winz25`) are bounded too
                self._symbols[ticker] = state
        return state

    def _release_idle(self) -> bool:
        """Let go of the symbol idle longest if it has been idle for IDLE_SYMBOL_MS."""
        if self._newest_ms < self._no_release_before:
            return False  # a flood of new symbols at the maximum costs no scan
        followed = [state for key, state in self._symbols.items() if key == state.symbol.ticker]
        idle = min(followed, key=lambda state: state.last_timestamp_ms)
        if idle.last_timestamp_ms + IDLE_SYMBOL_MS > self._newest_ms:
            self._no_release_before = idle.last_timestamp_ms + IDLE_SYMBOL_MS
            return False
        ticker = idle.symbol.ticker
        idle.pipeline.finish()  # collect a training in flight (a trainer process keeps it)
        self.features.release(idle.symbol, self.clock.now())
        for key in [key for key, state in self._symbols.items() if state is idle]:
            del self._symbols[key]
        self.models.pop(ticker, None)
        for gauge in (self.metrics.accuracy, self.metrics.hit_rate):
            with contextlib.suppress(KeyError):
                gauge.remove(ticker)
        self._followed -= 1
        self.released += 1
        self.logger.info(
            "Idle symbol let go for a new one",
            extra={"context": {"symbol": ticker, "last_tick_ms": idle.last_timestamp_ms}},
        )
        return True

    def _remember(self, state: SymbolState, trade_id: int) -> None:
        state.recent_ids.add(trade_id)
        state.recent_order.append(trade_id)
        if len(state.recent_order) > RECENT_TRADE_IDS:
            state.recent_ids.discard(state.recent_order.popleft())

    def _record(self, symbol: Symbol, decision: SignalDecision) -> None:
        """Build the signal here (its time is the tick's) and queue it for the writer."""
        self.decisions += 1
        try:
            signal = Signal.generate(
                symbol=symbol,
                direction=decision.direction,
                confidence=decision.confidence,
                features=decision.feature_map(),
                model_version=decision.model_version,
                tick_trade_id=decision.trade_id,
                tick_timestamp_ms=decision.timestamp_ms,
                price=decision.price,
                at=self.clock.now(),
            )
        except DomainError as error:
            self._failed("signal", error, {"symbol": symbol.ticker, "trade_id": decision.trade_id})
            return
        self.writer.put(signal)
        self.signals_put += 1

    def _stored(self, signal: Signal) -> None:
        """Called by the writer thread once a signal is in the store."""
        self.metrics.store_ok = True
        if self.on_signal is not None:
            # HOLD too: auto-execution closes the position when the model loses its view.
            self.on_signal(signal)  # forward before logging: the API host should not wait
        self.metrics.signals.labels(direction=signal.direction.value).inc()
        self.logger.info(
            "Signal generated",
            extra={
                "context": {
                    "symbol": signal.symbol.ticker,
                    "direction": signal.direction.value,
                    "confidence": round(signal.confidence, 6),
                    "signal_id": str(signal.id),
                    "tick_trade_id": signal.tick_trade_id,
                    "model_version": signal.model_version,
                }
            },
        )

    def _updated(self, symbol: Symbol, model: OnlineModel) -> None:
        accuracy = model.accuracy
        self.metrics.updates.inc()
        if accuracy is not None:
            self.metrics.accuracy.labels(symbol=symbol.ticker).set(accuracy)
        self.logger.info(
            "Model updated",
            extra={
                "context": {
                    "symbol": symbol.ticker,
                    "model_version": model.version,
                    "accuracy": None if accuracy is None else round(accuracy, 6),
                }
            },
        )
        hit_rate = self._symbols[symbol.ticker].pipeline.stats.hit_rate
        if hit_rate is not None:
            self.metrics.hit_rate.labels(symbol=symbol.ticker).set(hit_rate)
        if self.on_update is not None:
            self.on_update(symbol.ticker, model)

    def _failed(self, what: str, error: BaseException, context: dict[str, object]) -> None:
        self.metrics.store_errors.labels(what=what).inc()
        if what != "task" and not isinstance(error, DomainError):  # not the store's fault
            self.metrics.store_ok = False
        self.logger.error(
            FAILURE_MESSAGES.get(what, f"Storing {what} failed"),
            extra={"context": {**context, "error": f"{type(error).__name__}: {error}"}},
        )


FAILURE_MESSAGES: Final = {
    "store": "Opening the store failed",
    "task": "A writer task failed (e.g. saving the model file)",
    "batch": "Storing a batch failed",
}
"""Log messages of the failures that are not "storing X" (what -> message)."""


def _price_units(price: float) -> int:
    """Return a tick price in integer units; refuse a price finer than 1/PRICE_SCALE."""
    units = round(price * PRICE_SCALE)
    if units > 0 and units / PRICE_SCALE == price:
        return units
    try:
        return price_to_units(to_decimal(price, "price"))
    except DomainError as error:
        raise MessageRejected("invalid_price", str(error)) from None
