"""Signals in, orders out: record each signal once and optionally trade it as a position target.

Auto-execution is a position policy: BUY sets the target position of the signal's symbol to long
N, SELL to short N, HOLD to flat (or leaves it, `hold_closes=False`); the desk sends the one
order that moves the position to its target. While an order of that account and symbol is in
flight (open at the venue) it sends nothing: the signal is recorded and skipped (`ORDER_IN_FLIGHT`),
and the next signal sets the target again, so orders never stack.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final, cast

from tradingcore.application.broker_reports import PendingWrite
from tradingcore.application.errors import ConcurrencyConflict
from tradingcore.application.order_commands import ExecuteOrder, ExecutionResult, OrderNotFound
from tradingcore.application.order_manager import DecidedOrder, OrderBatch, OrderManager
from tradingcore.domain.audit import AuditEntry, audit_id_for
from tradingcore.domain.errors import InvalidSignal
from tradingcore.domain.order import order_id_for
from tradingcore.domain.signal import Direction, Signal, SignalGenerated, signal_id_for
from tradingcore.domain.values import MARKET_PRICE_MARKER, Side, Symbol

RECENT_SIGNALS_KEPT: Final = 1_000


@dataclass(frozen=True, slots=True)
class AutoExecution:
    """How received signals become orders; disabled unless asked for."""

    enabled: bool = False
    quantity: int = 1
    """N: the size of the target position a BUY (long N) or SELL (short N) asks for."""
    min_confidence: float = 0.6
    """BUY/SELL signals below it leave the position as it is."""
    scale_by_confidence: bool = False
    """Target round(quantity × confidence) contracts (at least one) instead of `quantity`."""
    hold_closes: bool = True
    """A HOLD signal targets a flat position; False: a HOLD leaves the position as it is."""

    def quantity_for(self, confidence: float) -> int:
        if not self.scale_by_confidence:
            return self.quantity
        return max(1, round(self.quantity * confidence))

    def target_for(self, direction: Direction, confidence: float) -> int | None:
        """Return the target net position a signal asks for; None: leave it as it is."""
        if direction is Direction.HOLD:
            return 0 if self.hold_closes else None
        if confidence < self.min_confidence:
            return None
        size = self.quantity_for(confidence)
        return size if direction is Direction.BUY else -size


ORDER_IN_FLIGHT: Final = "ORDER_IN_FLIGHT"
AT_TARGET: Final = "AT_TARGET"
NO_TARGET: Final = "NO_TARGET"


@dataclass(frozen=True, slots=True)
class SignalReceived:
    """A signal as the analytics host posts it (spec 6.2)."""

    symbol: Symbol
    direction: Direction
    confidence: float
    features: Mapping[str, float]
    model_version: str
    tick_trade_id: int
    tick_timestamp_ms: int
    price: float
    signal_id: uuid.UUID | None = None
    """The sender's id for it; it must equal the one the core derives."""


@dataclass(frozen=True, slots=True)
class SignalResult:
    signal: Signal
    created: bool
    execution: ExecutionResult | None
    skipped: str = ""
    """Why no order was sent: ORDER_IN_FLIGHT, AT_TARGET, NO_TARGET, or the feed cursor's
    SIGNAL_LATE / TAPE_NOT_SEEN; empty when an order was sent or auto-execution is off."""
    decided: DecidedOrder | None = None
    """Taken in a batch: the order decided, its answer due when the batch is finished."""


@dataclass(eq=False)
class SignalBatch:
    """Signals taken one after another whose signals, orders and fills are made durable
    together: one transaction (one disk flush) for a burst instead of one or two per signal.

    Nothing is answered before it is durable: `SignalDesk.finish` commits what the batch
    decided so far and reports it (the feed cursor calls it before it waits for a tick, the
    taker once more at the end), then `SignalDesk.settled` gives each signal's final result
    (or raises its store error).
    """

    orders: OrderBatch = field(default_factory=OrderBatch)
    recorded: dict[uuid.UUID, tuple[PendingWrite, AuditEntry]] = field(default_factory=dict)
    """The signals this batch recorded: their write and audit entry."""
    unreported: list[uuid.UUID] = field(default_factory=list)
    """Recorded signals `finish` has not reported yet, in the order they were taken."""

    def failed(self) -> Exception | None:
        """The error of a write of this batch that failed already (the rest would fail too)."""
        for write, _ in self.recorded.values():
            if write.error is not None:
                return write.error
        return self.orders.failed()


class SignalDesk:
    """Records signals (idempotent on their deterministic id) and auto-executes them."""

    def __init__(self, orders: OrderManager, auto: AutoExecution | None = None) -> None:
        self.orders = orders
        self.app = orders.app
        self.auto = auto or AutoExecution()
        self.recent: deque[Signal] = deque(maxlen=RECENT_SIGNALS_KEPT)
        self._recent_ids: set[uuid.UUID] = set()
        self._queued: dict[uuid.UUID, PendingWrite] = {}
        """Signals recorded by an unfinished batch, not yet known durable."""

    def receive(
        self,
        received: SignalReceived,
        actor: str,
        account: str,
        *,
        execute: bool = True,
        batch: SignalBatch | None = None,
    ) -> SignalResult:
        """Record a signal once; when auto-execution is on (and `execute`), trade it for
        `account`. In a `batch`, what it stores waits for the batch's transaction."""
        expected = signal_id_for(
            received.model_version,
            received.symbol,
            received.tick_trade_id,
            received.tick_timestamp_ms,
        )
        if received.signal_id is not None and received.signal_id != expected:
            raise InvalidSignal(
                f"invalid signal_id {received.signal_id}: the id of this model version, symbol, "
                f"tick trade id and timestamp is {expected}"
            )
        with self.orders.lock:
            signal, created = self._record(received, expected, actor, batch)
            if signal.id not in self._queued:  # else once its batch stored it (`finish`)
                self.remember(signal)
            if not execute or not self.auto.enabled:
                return SignalResult(signal, created, None)
            execution, skipped = self._execute(signal, actor, account, batch)
            if isinstance(execution, DecidedOrder):
                return SignalResult(signal, created, None, skipped, decided=execution)
            return SignalResult(signal, created, execution, skipped)

    def finish(self, batch: SignalBatch) -> None:
        """Make what a batch decided so far durable and report it (see `SignalBatch`)."""
        try:
            self.orders.finish(batch.orders)
        finally:
            with self.orders.lock:
                unreported, batch.unreported = batch.unreported, []
                for signal_id in unreported:
                    write, audit = batch.recorded[signal_id]
                    self._queued.pop(signal_id, None)
                    if write.error is None:
                        self.remember(cast(Signal, write.aggregates[0]))
                        self.orders.observer.audited(audit)

    def settled(self, batch: SignalBatch, result: SignalResult) -> SignalResult:
        """The final result of a signal taken in a finished batch; its store error if the
        signal or its order could not be stored."""
        recorded = batch.recorded.get(result.signal.id)
        if recorded is not None and recorded[0].error is not None:
            if not isinstance(recorded[0].error, ConcurrencyConflict):
                raise recorded[0].error
            # Another writer stored this signal first: answer with theirs, as `_record` would.
            result = replace(result, signal=self.app.load(Signal, result.signal.id), created=False)
        if result.decided is not None:
            execution = batch.orders.outcome(result.decided)
            result = replace(result, execution=execution, decided=None)
        return result

    def _record(
        self,
        received: SignalReceived,
        signal_id: uuid.UUID,
        actor: str,
        batch: SignalBatch | None = None,
    ) -> tuple[Signal, bool]:
        if signal_id in self._queued:
            self.orders.writes.flush()  # recorded by an unfinished batch: let it land first
        if self.app.exists(signal_id):
            return self.app.load(Signal, signal_id), False
        signal = Signal.generate(
            symbol=received.symbol,
            direction=received.direction,
            confidence=received.confidence,
            features=received.features,
            model_version=received.model_version,
            tick_trade_id=received.tick_trade_id,
            tick_timestamp_ms=received.tick_timestamp_ms,
            price=received.price,
            at=self.app.clock.now(),
        )
        audit = AuditEntry.record(
            entry_id=audit_id_for("SIGNAL_RECORDED", signal.id),
            actor=actor,
            action="SIGNAL_RECORDED",
            details={
                "signal_id": str(signal.id),
                "symbol": signal.symbol.ticker,
                "direction": signal.direction.value,
                "confidence": signal.confidence,
                "model_version": signal.model_version,
                "tick_trade_id": signal.tick_trade_id,
            },
            result="SUCCESS",
            reason="",
            at=self.app.clock.now(),
        )
        if batch is not None:
            write = self.orders.writes.enqueue(signal, audit, decided_on=True)
            self._queued[signal.id] = write
            batch.recorded[signal.id] = (write, audit)
            batch.unreported.append(signal.id)
            return signal, True
        stored, created = self.app.store_signal(signal, audit)
        if created:
            self.orders.observer.audited(audit)
        return stored, created

    def _execute(
        self, signal: Signal, actor: str, account: str, batch: SignalBatch | None = None
    ) -> tuple[ExecutionResult | DecidedOrder | None, str]:
        """Send the order that moves the position to the signal's target, or say why not."""
        # A re-posted signal finds its order again: the client order id is the signal's.
        client_order_id = f"signal-{signal.id.hex}"
        order_id = order_id_for(account, client_order_id)
        if self.orders.order_known(order_id):
            try:
                sent = self.orders.find_order(order_id, account)
            except OrderNotFound:
                pass
            else:
                return ExecutionResult(sent, created=False), ""
        target = self.auto.target_for(signal.direction, signal.confidence)
        if target is None:
            return None, NO_TARGET
        book = self.orders.book
        if book.open_quantity(account, signal.symbol, Side.BUY) or book.open_quantity(
            account, signal.symbol, Side.SELL
        ):
            return None, ORDER_IN_FLIGHT
        held = self.orders.net_position(account, signal.symbol)
        if held == target:
            return None, AT_TARGET
        side = Side.BUY if target > held else Side.SELL
        order = self._order(signal, actor, account, side, abs(target - held))
        if batch is not None:
            return self.orders.execute_in(batch.orders, order), ""
        return self.orders.execute(order), ""

    @staticmethod
    def _order(signal: Signal, actor: str, account: str, side: Side, quantity: int) -> ExecuteOrder:
        return ExecuteOrder(
            actor=f"auto-execution:{actor}",
            account=account,
            symbol=signal.symbol,
            side=side,
            quantity=quantity,
            price=Decimal(MARKET_PRICE_MARKER),
            client_order_id=f"signal-{signal.id.hex}",
            signal_id=signal.id,
        )

    def remember(self, signal: Signal) -> None:
        """Keep a signal in the recent list (signals other processes store arrive here too)."""
        if signal.id in self._recent_ids:
            return
        if len(self.recent) == self.recent.maxlen:
            self._recent_ids.discard(self.recent[0].id)
        self.recent.append(signal)
        self._recent_ids.add(signal.id)

    def on_signal_event(self, event: SignalGenerated) -> None:
        self.remember(Signal.rehydrate(event.originator_id, [event]))

    def latest(self, limit: int, symbol: Symbol | None = None) -> list[Signal]:
        """Return the newest signals first, optionally of one symbol."""
        chosen: list[Signal] = []
        for signal in reversed(self.recent):
            if symbol is None or signal.symbol == symbol:
                chosen.append(signal)
                if len(chosen) >= limit:
                    break
        return chosen
