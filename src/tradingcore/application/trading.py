"""The trading application: tape, orders, positions and signals in one event store."""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, Transcoder

from tradingcore.application.codec import MsgpackTranscoder, encode
from tradingcore.application.errors import (
    AggregateMissing,
    ConcurrencyConflict,
    IdempotencyConflict,
)
from tradingcore.application.topics import EventMapper
from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.book_tape import BookColumns, BookTape, BookTopsRecorded, book_tape_id
from tradingcore.domain.commands import SubmitOrder
from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import NoFees
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.money import Money
from tradingcore.domain.order import Order, order_id_for
from tradingcore.domain.position import Position, position_id_for
from tradingcore.domain.signal import Direction, Signal
from tradingcore.domain.tape import MarketTape, TradeColumns, TradesRecorded, session_tape_id
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import Clock
from tradingcore.ports.fees import FeeModel

A = TypeVar("A", bound=AggregateRoot[Any])
R = TypeVar("R")


class _Getter(Protocol):
    def __call__(self, kind: type[A], aggregate_id: uuid.UUID) -> A: ...


BOOK_SESSIONS_HELD = 2
"""Book tapes held per symbol: the session it is in and the one before (see `_book_tape`)."""

DEFAULT_ENV: Mapping[str, str] = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class TradingApplication(Application[uuid.UUID]):
    """Commands over the tape, orders, positions and signals; every change an event."""

    name = "tradingcore"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Clock,
        instruments: Callable[[Symbol], Instrument] = infer_instrument,
        cache_size: int = 10_000,
        fee_model: FeeModel | None = None,
    ) -> None:
        super().__init__(env={**DEFAULT_ENV, **(env or {})})
        self.clock = clock
        self.instruments = _remembered(instruments)
        self.fee_model: FeeModel = fee_model or NoFees()
        """Prices fills booked without explicit fees (paper, backtest, demo charge this)."""
        self._tapes: dict[uuid.UUID, MarketTape] = {}
        self._book_tapes: dict[uuid.UUID, BookTape] = {}
        """Book tapes held, at most BOOK_SESSIONS_HELD sessions of each symbol."""
        self._cache: OrderedDict[uuid.UUID, AggregateRoot[Any]] = OrderedDict()
        self.cache_size = cache_size
        self.stored_listeners: list[Callable[[Sequence[tuple[int, DomainEvent]]], None]] = []
        """Told (notification id, event) of every write this application made, after it is
        durable, in the writing thread: in-process readers skip reading their own writes back."""

    def construct_transcoder(self) -> Transcoder:
        return MsgpackTranscoder()

    def construct_mapper(self) -> Mapper[uuid.UUID]:
        """A mapper that resolves stored topics only to our own event classes."""
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=EventMapper)

    # Persistence ---------------------------------------------------------------------------

    def store(self, *aggregates: AggregateRoot[Any]) -> int | None:
        """Save pending events of the aggregates atomically; return the last notification id."""
        events: list[DomainEvent] = []
        for aggregate in aggregates:
            events.extend(aggregate.collect_events())
        try:
            position = self.append(events)
        except Exception:
            # The in-memory copies are now ahead of the store: forget them.
            for aggregate in aggregates:
                self._cache.pop(aggregate.id, None)
            raise
        for aggregate in aggregates:
            self._remember(aggregate)
        return position

    def append(self, events: Sequence[DomainEvent]) -> int | None:
        if not events:
            return None
        try:
            recordings = self.events.put(events)
        except IntegrityError as error:
            first = events[0]
            raise ConcurrencyConflict(
                f"concurrent write to aggregate {first.originator_id} at version "
                f"{first.originator_version}: another writer saved it first ({error})"
            ) from error
        if not recordings:
            return None
        if self.stored_listeners:
            written = [(r.notification.id, cast(DomainEvent, r.domain_event)) for r in recordings]
            for listener in self.stored_listeners:
                listener(written)
        return recordings[-1].notification.id

    def load(self, kind: type[A], aggregate_id: uuid.UUID) -> A:
        """Return an aggregate: the cached copy brought up to date, or rebuilt from the store.

        Other processes may write the same store, so a cached aggregate is always
        fast-forwarded with the events stored after its version.
        """
        cached = self._cache.get(aggregate_id)
        if isinstance(cached, kind):
            for event in self.events.get(aggregate_id, gt=cached.version):
                cached._mutate(event)
            self._cache.move_to_end(aggregate_id)
            return cached
        events = list(self.events.get(aggregate_id))
        if not events:
            raise AggregateMissing(f"no {kind.__name__} with id {aggregate_id} in the store")
        aggregate = kind.rehydrate(aggregate_id, events)
        self._remember(aggregate)
        return aggregate

    def load_fresh(self, kind: type[A], aggregate_id: uuid.UUID) -> A:
        """Rebuild an aggregate from the store alone, bypassing the cache."""
        events = list(self.events.get(aggregate_id))
        if not events:
            raise AggregateMissing(f"no {kind.__name__} with id {aggregate_id} in the store")
        return kind.rehydrate(aggregate_id, events)

    def _remember(self, aggregate: AggregateRoot[Any]) -> None:
        self._cache[aggregate.id] = aggregate
        self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def hold(self, aggregate: AggregateRoot[Any]) -> None:
        """Keep an aggregate whose events are queued for a write (loads see them before they
        are stored); `forget` it if that write fails."""
        self._remember(aggregate)

    def holds(self, aggregate_id: uuid.UUID) -> bool:
        """Whether a copy of the aggregate is held in memory."""
        return aggregate_id in self._cache

    def forget(self, *aggregate_ids: uuid.UUID) -> None:
        """Drop cached aggregates (their next load reads the store)."""
        for aggregate_id in aggregate_ids:
            self._cache.pop(aggregate_id, None)

    def exists(self, aggregate_id: uuid.UUID) -> bool:
        if aggregate_id in self._cache:
            return True
        return any(True for _ in self.events.get(aggregate_id, limit=1))

    # Market tape ---------------------------------------------------------------------------

    def tape(
        self,
        symbol: Symbol,
        session: date,
        *,
        band_fraction: Decimal | None = Decimal("0.2"),
        reference_price: Decimal | None = None,
    ) -> MarketTape:
        """Return the session tape of a symbol, opening it if it does not exist yet."""
        tape_id = session_tape_id(symbol, session)
        tape = self._tapes.get(tape_id)
        if tape is None:
            if self.exists(tape_id):
                tape = self.load(MarketTape, tape_id)
            else:
                tape = MarketTape.open(
                    symbol,
                    session,
                    self.clock.now(),
                    reference_price=reference_price,
                    band_fraction=band_fraction,
                )
                self.store(tape)
            self._tapes[tape_id] = tape
        return tape

    def forget_tape(self, symbol: Symbol, session: date) -> None:
        """Let go of a session's trade and book tapes held in memory (they are loaded from the
        store if asked again)."""
        for tape_id in (session_tape_id(symbol, session), book_tape_id(symbol, session)):
            self._tapes.pop(tape_id, None)
            self._book_tapes.pop(tape_id, None)
            self._cache.pop(tape_id, None)

    def record_trades(self, symbol: Symbol, session: date, trades: TradeColumns) -> TradesRecorded:
        """Validate and durably record one batch of trades of one symbol and session."""
        tape = self.tape(symbol, session)
        try:
            event = tape.record(trades, self.clock.now())
            self.store(tape)
        except Exception:
            # The in-memory tape may be ahead of the store now: drop it, reload next time.
            self._tapes.pop(tape.id, None)
            raise
        return event

    def record_books(self, symbol: Symbol, session: date, books: BookColumns) -> BookTopsRecorded:
        """Validate and durably record one batch of book tops of one symbol and session."""
        tape = self._book_tape(symbol, session)
        try:
            event = tape.record(books, self.clock.now())
            self.store(tape)
        except Exception:
            self._book_tapes.pop(tape.id, None)  # it may be ahead of the store: reload it
            raise
        return event

    def book_tape_last_ms(self, symbol: Symbol, session: date) -> int:
        """Return the time of the last book top recorded for a symbol's session (-1: none)."""
        return self._book_tape(symbol, session).last_timestamp_ms

    def _book_tape(self, symbol: Symbol, session: date) -> BookTape:
        """The symbol's book tape of this session, held until the session is let go
        (`forget_tape`) or a third session of the symbol opens.

        Two sessions are held, not one: at a session change the earlier session's last batch
        is often written after the next session's first one, and a tape not held is rebuilt
        from every top of its session (a day of ~250,000 tops decodes ~1.2M ints: the capture
        host's RSS stepped from ~52 to ~60-80 MB at each session change when one was held).
        """
        tape_id = book_tape_id(symbol, session)
        tape = self._book_tapes.get(tape_id)
        if tape is None:
            if self.exists(tape_id):
                tape = self.load_fresh(BookTape, tape_id)
            else:
                tape = BookTape.open(symbol, session, self.clock.now())
            self._book_tapes[tape_id] = tape
            others = sorted(
                (other.session, other.id)
                for other in self._book_tapes.values()
                if other.symbol == symbol and other.id != tape_id
            )
            for _, oldest in others[: max(0, len(others) + 1 - BOOK_SESSIONS_HELD)]:
                self._book_tapes.pop(oldest, None)
                self._cache.pop(oldest, None)
        return tape

    # Orders and positions ------------------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> Order:
        """Create an order, or return the original when the client order id was used before."""
        order_id = order_id_for(command.account, command.client_order_id)
        cached = self._cache.get(order_id)
        if isinstance(cached, Order):
            return self.original_order(order_id, command)
        order = Order.submit(command, self.instruments(command.symbol), self.clock.now())
        try:
            # Version 1 of this id can be written once: a retry (even a concurrent one from
            # another process) conflicts here and gets the original back.
            self.store(order)
        except ConcurrencyConflict:
            return self.original_order(order_id, command)
        self._remember(order)
        return order

    def original_order(self, order_id: uuid.UUID, command: SubmitOrder) -> Order:
        """Return the stored order of a client order id, refusing a different order under it."""
        order = self.load(Order, order_id)
        same = (order.symbol, order.side, order.quantity, order.price) == (
            command.symbol,
            command.side,
            command.quantity.value,
            command.price.value,
        )
        if not same:
            raise IdempotencyConflict(
                f"client order id {command.client_order_id!r} was already used for a different "
                f"order ({order.side} {order.quantity} {order.symbol.ticker} @ {order.price})"
            )
        return order

    def _optimistic(self, command: Callable[[_Getter], R]) -> R:
        """Run a command on cached aggregates; on a conflict or a rule broken by a possibly
        stale copy, run it once more on state freshly read from the store.

        Correctness never depends on the cache: the store refuses a write whose version
        another writer took (optimistic concurrency), and the retry sees that writer's events.
        """
        try:
            return command(self._cached)
        except (ConcurrencyConflict, DomainError):
            return command(self.load)

    def _cached(self, kind: type[A], aggregate_id: uuid.UUID) -> A:
        cached = self._cache.get(aggregate_id)
        if isinstance(cached, kind):
            self._cache.move_to_end(aggregate_id)
            return cached
        return self.load(kind, aggregate_id)

    def _change_order(self, order_id: uuid.UUID, change: Callable[[Order], object]) -> Order:
        def command(get: _Getter) -> Order:
            order = get(Order, order_id)
            try:
                change(order)
                self.store(order)
            except Exception:
                # Whatever failed, the cached copy may now be ahead of the store: forget it.
                self._cache.pop(order_id, None)
                raise
            return order

        return self._optimistic(command)

    def deny_order(self, order_id: uuid.UUID, reason_code: str, reason: str) -> Order:
        return self._change_order(
            order_id, lambda order: order.deny(reason_code, reason, self.clock.now())
        )

    def accept_order(self, order_id: uuid.UUID, venue_order_id: str) -> Order:
        return self._change_order(
            order_id, lambda order: order.accept(venue_order_id, self.clock.now())
        )

    def reject_order(self, order_id: uuid.UUID, reason_code: str, reason: str) -> Order:
        return self._change_order(
            order_id, lambda order: order.reject(reason_code, reason, self.clock.now())
        )

    def cancel_order(self, order_id: uuid.UUID, reason: str) -> Order:
        return self._change_order(order_id, lambda order: order.cancel(reason, self.clock.now()))

    def fill_order(
        self,
        order_id: uuid.UUID,
        trade_id: int,
        price: Decimal,
        quantity: int,
        fees: Money | None = None,
        *,
        save: Callable[[Order, Position], object] | None = None,
    ) -> tuple[Order, Position]:
        """Book a fill on the order and its position in one transaction.

        `fees` None: the application's fee model prices the fill. The same trade id with the
        same price and quantity again changes nothing; a bad price, a conflicting repeat or
        an overfill raises a domain error and stores nothing. `save`: queues the changed order
        and position for a transaction of the caller's (instead of storing them now); the
        copies are read fresh from the store first, and the caller forgets them if that
        transaction fails.
        """
        getter = self.load if save is not None else None

        def command(get: _Getter) -> tuple[Order, Position]:
            get = getter or get
            order = get(Order, order_id)
            position_id = position_id_for(order.account, order.symbol)
            try:
                instrument = self.instruments(order.symbol)
                if position_id in self._cache or self.exists(position_id):
                    position = get(Position, position_id)
                else:
                    position = Position.open_for(order.account, instrument)
                if order.fills.get(trade_id) == (price, quantity):
                    return order, position
                order.check_fill(trade_id, price, quantity, instrument)
                at = self.clock.now()
                if fees is None:
                    charge = position.charge(
                        instrument,
                        order.side,
                        quantity,
                        price,
                        at,
                        first_fill_of_order=order.filled_quantity == 0,
                    )
                    charged = self.fee_model.fees(charge)
                else:
                    charged = fees
                order.fill(trade_id, price, quantity, at, fees=charged, instrument=instrument)
                side = order.side
                position.apply_fill(order.id, trade_id, side, quantity, price, at, fees=charged)
                if save is not None:
                    save(order, position)
                else:
                    self.store(order, position)
            except Exception:
                # Whatever failed, cached copies may now be ahead of the store: forget them.
                self._cache.pop(order_id, None)
                self._cache.pop(position_id, None)
                raise
            self._remember(position)
            return order, position

        return self._optimistic(command)

    def get_order(self, order_id: uuid.UUID) -> Order:
        return self.load(Order, order_id)

    def position(self, account: str, symbol: Symbol) -> Position:
        """Return the position of an account in a symbol (flat if it never traded)."""
        position_id = position_id_for(account, symbol)
        if self.exists(position_id):
            return self.load(Position, position_id)
        return Position.open_for(account, self.instruments(symbol))

    # Signals -------------------------------------------------------------------------------

    def record_signal(
        self,
        *,
        symbol: Symbol,
        direction: Direction,
        confidence: float,
        features: Mapping[str, float],
        model_version: str,
        tick_trade_id: int,
        tick_timestamp_ms: int,
        price: float,
    ) -> Signal:
        """Record a signal once: the same tick and model version give the same signal."""
        signal = Signal.generate(
            symbol=symbol,
            direction=direction,
            confidence=confidence,
            features=features,
            model_version=model_version,
            tick_trade_id=tick_trade_id,
            tick_timestamp_ms=tick_timestamp_ms,
            price=price,
            at=self.clock.now(),
        )
        return self.store_signal(signal)[0]

    def store_signal(self, signal: Signal, *alongside: AggregateRoot[Any]) -> tuple[Signal, bool]:
        """Store a generated signal once, with `alongside` (e.g. its audit entry) in the same
        transaction; return the stored signal and whether this call stored it.

        A signal's id is deterministic (model version, symbol, tick), so when it is already
        stored, here or by a concurrent writer, the stored one is returned and nothing of
        `alongside` is written.
        """
        if self.exists(signal.id):
            return self.load(Signal, signal.id), False
        try:
            self.store(signal, *alongside)
        except ConcurrencyConflict:
            return self.load(Signal, signal.id), False
        return signal, True


def state_hash(aggregate: AggregateRoot[Any]) -> str:
    """Return a SHA-256 of an aggregate's state: equal states give equal hashes."""
    return hashlib.sha256(encode(_canonical(aggregate.state()))).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(key): _canonical(item)
            for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(value, set | frozenset):
        return sorted((_canonical(item) for item in value), key=repr)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def rehydrate_all(
    kind: type[A], events_by_id: Mapping[uuid.UUID, Iterable[DomainEvent]]
) -> dict[uuid.UUID, A]:
    """Rebuild many aggregates of one kind from their events."""
    return {
        aggregate_id: kind.rehydrate(aggregate_id, events)
        for aggregate_id, events in events_by_id.items()
    }


def _remembered(instruments: Callable[[Symbol], Instrument]) -> Callable[[Symbol], Instrument]:
    """Ask for each symbol's spec once: every order and fill asks (a backtest ~3 times each)."""
    known: dict[Symbol, Instrument] = {}

    def instrument(symbol: Symbol) -> Instrument:
        spec = known.get(symbol)
        if spec is None:
            spec = known[symbol] = instruments(symbol)
        return spec

    return instrument
