"""A feed that replays a finite stream of records from its own thread, like the DLL does."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from adapters.feeds.pacing import AsFastAsPossible, Pacer
from tradingcore.domain.book import BookTop
from tradingcore.domain.tape import Trade
from tradingcore.domain.values import Symbol
from tradingcore.ports.market_data import ConnectionState, FeedListener

Record = Trade | BookTop | tuple[str, object]
"""A trade, a book top, or `(reason, raw record)` for a record the source found invalid."""


class ReplayFeed:
    """Base of finite sources: `records()` yields what to emit; `finished` is set at the end."""

    name = "replay"

    def __init__(self, pacer: Pacer | None = None) -> None:
        self.pacer = pacer or AsFastAsPossible()
        self.symbols: list[Symbol] = []
        self.finished = threading.Event()
        self.emitted = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._logger = logging.getLogger(f"tradingcore.feeds.{self.name}")

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def subscribe(self, symbol: Symbol) -> None:
        """Restrict the replay to subscribed symbols (none subscribed: every symbol)."""
        if symbol not in self.symbols:
            self.symbols.append(symbol)

    def start(self, listener: FeedListener) -> None:
        if self._thread is not None:
            raise RuntimeError(f"the {self.name} feed was already started")
        self._thread = threading.Thread(
            target=self._run, args=(listener,), name=f"feed-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every record was emitted; True when finished."""
        return self.finished.wait(timeout)

    def _run(self, listener: FeedListener) -> None:
        listener.on_state(ConnectionState(True, True, False, f"{self.name} source started"))
        try:
            for record in self.records():
                if self._stopping.is_set():
                    break
                if isinstance(record, Trade):
                    self.pacer.wait(record.timestamp_ms, self._stopping)
                    listener.on_trade(record)
                elif isinstance(record, BookTop):
                    listener.on_book(record)
                else:
                    listener.on_invalid(*record)
                self.emitted += 1
        except Exception as error:  # a broken source must not leave the host waiting forever
            self._logger.exception("the %s source failed", self.name)
            listener.on_state(
                ConnectionState(False, False, False, f"{self.name} source failed: {error}")
            )
        finally:
            self.finished.set()
