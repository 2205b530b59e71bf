"""The analytics host's composition root: store, engine, WebSocket server, forwarder, metrics."""

from __future__ import annotations

import gc
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from prometheus_client import start_http_server

from adapters.eventstore import DEFAULT_STORE_URL, open_store, redacted, store_env
from adapters.jsonlog import DEFAULT_LOG_DIR, configure_logging
from adapters.models import load_models, save_states
from adapters.signals_http import SignalForwarder
from adapters.websocket.server import DEFAULT_PORT, TickServer
from hosts.analytics.engine import (
    DEFAULT_MAX_SYMBOLS,
    AnalyticsEngine,
    HostTrainer,
    SignalCallback,
    ThreadTrainer,
    WriterFactory,
    signal_body,
)
from hosts.analytics.metrics import AnalyticsMetrics
from hosts.analytics.trainer_process import HELPER_PROCESSES, ProcessTrainer
from hosts.analytics.writer import FailureHandler, StoreWriter, StoreWrites
from hosts.analytics.writer_process import ProcessStoreWriter, SplitStoreWriter
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.model import OnlineModel, import_model_libraries
from tradingcore.analytics.state import model_state
from tradingcore.application.trading import TradingApplication
from tradingcore.domain.signal import Signal
from tradingcore.ports.clock import ManualClock

DEFAULT_TRAINER: Final = "process" if HELPER_PROCESSES else "thread"
DEFAULT_WRITER: Final = "split" if HELPER_PROCESSES else "thread"


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    store_url: str = DEFAULT_STORE_URL
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_url: str | None = None
    api_key: str = ""
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    model_path: Path | None = None
    log_dir: Path = DEFAULT_LOG_DIR
    config: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    feature_batch: int = 1_000
    flush_interval: float = 1.0
    forward_capacity: int = 10_000
    max_symbols: int = DEFAULT_MAX_SYMBOLS
    """Symbols followed at once; ticks of one more are refused (`too_many_symbols`)."""
    trainer: str = DEFAULT_TRAINER
    """Where model updates train: "process" (a trainer process: a `partial_fit` holds the GIL
    for its whole run, so on a thread it stalls the tick thread) or "thread"."""
    writer: str = DEFAULT_WRITER
    """Where store writes run: "split" (signals on a thread of the host, feature batches in a
    writer process; when the store is unreachable at start, all in the writer process, which
    retries), "process" (all in the writer process) or "thread" (a thread of the host). An
    in-memory store always writes on a thread of the host, where it lives."""


class AnalyticsService:
    """Start and stop everything the analytics host runs."""

    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self.logger = configure_logging("analytics", settings.log_dir)
        self.metrics = AnalyticsMetrics()
        self.clock = ManualClock()
        store_env(settings.store_url)  # a bad URL fails here, not in the writer process
        mode = "thread" if _in_memory(settings.store_url) else settings.writer
        if mode not in WRITERS:
            raise ValueError(f"writer {mode!r}: use one of {', '.join(WRITERS)}")
        self.app: TradingApplication | None = None
        if mode == "thread":
            self.app = open_store(settings.store_url, self.clock)
        elif mode == "split":
            try:
                self.app = open_store(settings.store_url, self.clock)
            except Exception as error:  # e.g. PostgreSQL down: the writer process retries
                self._log(
                    "Store unreachable at start: every write goes to the writer process",
                    level=logging.ERROR,
                    error=f"{type(error).__name__}: {error}",
                )
                mode = "process"
        self.writer_mode = mode
        models: dict[str, OnlineModel] = {}
        if settings.model_path is not None and settings.model_path.exists():
            models = load_models(settings.model_path)
            self._log("Model loaded", path=str(settings.model_path), symbols=sorted(models))
        self.forwarder: SignalForwarder | None = None
        if settings.api_url:
            self.forwarder = SignalForwarder(
                settings.api_url,
                settings.api_key,
                capacity=settings.forward_capacity,
                report=self._forwarding,
            )
            self.metrics.watch_forwarder(self.forwarder.status)
        self.engine = AnalyticsEngine(
            self.app,
            self.clock,
            settings.config,
            models=models,
            metrics=self.metrics,
            logger=self.logger,
            feature_batch=settings.feature_batch,
            on_signal=self._forward,
            on_update=self._save_model,
            on_progress=self.forwarder.progress if self.forwarder is not None else None,
            writer=self._writer_factory(mode),
            trainer=self._trainer(settings.trainer),
            max_symbols=settings.max_symbols,
        )
        self.server = TickServer(
            self.engine.handle,
            host=settings.host,
            port=settings.port,
            on_reject=self._rejected,
            on_error=self._error,
            every=(settings.flush_interval, self.engine.flush),
        )
        self.metrics.connections.set_function(lambda: self.server.open_connections)
        self._metrics_server: Any = None
        self._rejects_logged: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.settings.metrics_port is not None:
            host, port = self.settings.metrics_host, self.settings.metrics_port
            try:
                self._metrics_server, _ = start_http_server(port, host, self.metrics.registry)
            except OSError as error:  # its own message names no address: say which one
                raise OSError(
                    error.errno, f"cannot serve metrics on {host}:{port}: {error.strerror}"
                ) from error
        import_model_libraries()  # not on the tick thread when the first model comes
        # Move everything loaded so far (sklearn, pydantic, eventsourcing...) out of the
        # collector's reach: a full collection then scans only new objects, which keeps its
        # pauses on the tick thread well under a millisecond instead of tens of them.
        gc.collect()
        gc.freeze()
        if isinstance(self.engine.trainer, ProcessTrainer):
            self.engine.trainer.ready(30.0)  # warmed up before the first tick
        self.server.start()
        self._log(
            "Analytics host started", url=self.server.url, store=redacted(self.settings.store_url)
        )

    @property
    def metrics_port(self) -> int | None:
        if self._metrics_server is None:
            return None
        return int(self._metrics_server.server_port)

    def stop(self) -> None:
        """Stop taking ticks, store what is buffered, save the model, drain the forwarder."""
        self.server.stop()
        self.engine.finish()
        self._save_model("", None)
        self.engine.close()
        if self.forwarder is not None:
            left = self.forwarder.close(timeout=5.0)
            if left:
                self._log("Signals left undelivered", level=logging.ERROR, count=left)
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        if self.app is not None:
            self.app.close()
        left = self.engine.writer.pending
        if left:
            self._log("Store writes left undone", level=logging.ERROR, count=left)
        self._log(
            "Analytics host stopped",
            feature_rows_stored=self.engine.writer.stored_rows,
            signals=self.engine.writer.stored_signals,
        )

    def _trainer(self, kind: str) -> HostTrainer:
        if kind == "thread":
            return ThreadTrainer()
        if kind != "process":
            raise ValueError(f"trainer {kind!r}: use process or thread")
        return ProcessTrainer(
            lambda text: self._log("Model training problem", level=logging.ERROR, error=text)
        )

    def _writer_factory(self, mode: str) -> WriterFactory:
        url, version, app = self.settings.store_url, self.settings.config.pipeline_version, self.app

        def build(on_stored: SignalCallback, on_failure: FailureHandler) -> StoreWrites:
            if app is None:
                return ProcessStoreWriter(url, version, on_stored, on_failure)
            if mode == "split":
                return SplitStoreWriter(app, url, version, on_stored, on_failure)
            return StoreWriter(app, version, on_stored, on_failure)

        return build

    def _forward(self, signal: Signal) -> None:
        if self.forwarder is not None:
            self.forwarder.submit(signal_body(signal))

    def _save_model(self, symbol: str, model: OnlineModel | None) -> None:
        """Snapshot the models now (on the tick thread) and write the file on the writer's."""
        path = self.settings.model_path
        if path is None or not self.engine.models:
            return
        states = {name: model_state(item) for name, item in self.engine.models.items()}
        self.engine.writer.put(lambda: self._write_models(path, states))

    def _write_models(self, path: Path, states: dict[str, dict[str, Any]]) -> None:
        try:
            save_states(path, states)
        except OSError as error:
            self._log("Saving the model failed", level=logging.ERROR, error=str(error))

    def _rejected(self, reason: str, detail: str, raw: str) -> None:
        self.metrics.rejected.labels(reason=reason).inc()
        with self._lock:
            seen = self._rejects_logged.get(reason, 0) + 1
            self._rejects_logged[reason] = seen
        # The first rejects of each reason in full, then one line per 1,000 (a flood of bad
        # messages must not flood the log).
        if seen <= 20 or seen % 1_000 == 0:
            self._log(
                "Message rejected",
                level=logging.WARNING,
                reason=reason,
                detail=detail,
                raw=raw,
                count=seen,
            )

    def _error(self, error: BaseException) -> None:
        self._log("Analytics host error", level=logging.ERROR, error=repr(error))

    def _forwarding(self, event: str, details: dict[str, Any]) -> None:
        level = logging.INFO if event == "recovered" else logging.WARNING
        if event in ("dropped", "refused", "undelivered"):
            level = logging.ERROR
        self._log(f"Signal forwarding {event}", level=level, **details)

    def _log(self, text: str, *, level: int = logging.INFO, **context: Any) -> None:
        self.logger.log(level, text, extra={"context": context})


WRITERS = ("process", "split", "thread")


def _in_memory(url: str) -> bool:
    return url.startswith("memory:") or url.startswith("sqlite://:memory:")


def api_key_from(variable: str) -> str:
    """Read the API key from an environment variable (never from the command line)."""
    return os.environ.get(variable, "")
