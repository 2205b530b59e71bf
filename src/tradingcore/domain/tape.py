"""The market tape: trades per symbol and session, recorded in batches.

Timestamps must be non-decreasing, not strictly increasing as the spec's C# invariant says:
B3 prints many trades in the same millisecond. Trade ids are unique per symbol and session but
need not increase (real NEG files show a few numbers out of time order).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from tradingcore.domain.aggregate import AggregateRoot, DomainEvent
from tradingcore.domain.errors import InvalidTrade
from tradingcore.domain.timestamps import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS
from tradingcore.domain.trade_ids import TradeIdSet
from tradingcore.domain.values import (
    Aggressor,
    Symbol,
    deterministic_id,
    price_to_units,
    units_to_price,
)

BRASILIA_OFFSET_MS: Final = -3 * 3_600_000
"""B3 runs on Brasília time, UTC-3 (no daylight saving since 2019; sessions never cross midnight,
so the one-hour summer shift of older years never moves a trade to another session date)."""
DAY_MS: Final = 86_400_000
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def session_day(timestamp_ms: int) -> int:
    """Return the Brasília day number (days since 1970-01-01) of a UTC epoch-ms time."""
    return (timestamp_ms + BRASILIA_OFFSET_MS) // DAY_MS


def session_of(timestamp_ms: int) -> date:
    """Return the B3 session a trade belongs to: its date in Brasília time."""
    return date.fromordinal(_EPOCH_ORDINAL + session_day(timestamp_ms))


CANCELLED: Final = 1
"""Flag bit: the exchange cancelled this trade after printing it."""
CROSS: Final = 2
"""Flag bit: a cross trade (both sides from one member)."""


@dataclass(frozen=True, slots=True)
class Trade:
    """One print on the tape; `timestamp_ms` is UTC epoch milliseconds."""

    symbol: Symbol
    trade_id: int
    timestamp_ms: int
    price: Decimal
    volume: int
    aggressor: Aggressor = Aggressor.NONE
    cancelled: bool = False
    cross: bool = False

    @property
    def flags(self) -> int:
        return (CANCELLED if self.cancelled else 0) | (CROSS if self.cross else 0)

    @property
    def counts_as_volume(self) -> bool:
        """Cancelled and cross trades are kept on the tape but are not ordinary volume."""
        return not (self.cancelled or self.cross)


@dataclass(slots=True)
class TradeColumns:
    """Trades of one symbol in column form: cheap to validate, encode and store."""

    trade_ids: list[int] = field(default_factory=list)
    timestamps_ms: list[int] = field(default_factory=list)
    prices: list[int] = field(default_factory=list)
    """Integer price units (see values.PRICE_SCALE)."""
    volumes: list[int] = field(default_factory=list)
    aggressors: list[str] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)

    def append(self, trade: Trade) -> None:
        self.trade_ids.append(trade.trade_id)
        self.timestamps_ms.append(trade.timestamp_ms)
        self.prices.append(price_to_units(trade.price))
        self.volumes.append(trade.volume)
        self.aggressors.append(trade.aggressor.value)
        self.flags.append(trade.flags)

    def __len__(self) -> int:
        return len(self.trade_ids)


def session_tape_id(symbol: Symbol, session: date) -> uuid.UUID:
    return deterministic_id("tape", symbol.full_symbol, session.isoformat())


@dataclass(frozen=True, kw_only=True)
class TapeEvent(DomainEvent):
    def apply(self, aggregate: MarketTape) -> None:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class TapeOpened(TapeEvent):
    symbol: Symbol
    session: date
    reference_price: Decimal | None
    """Price the circuit-breaker band is centred on; None: the first trade sets it."""
    band_fraction: Decimal | None
    """Allowed distance from the reference price as a fraction; None disables the band."""

    def apply(self, aggregate: MarketTape) -> None:
        aggregate.symbol = self.symbol
        aggregate.session = self.session
        aggregate.reference_price = self.reference_price
        aggregate.band_fraction = self.band_fraction


@dataclass(frozen=True, kw_only=True)
class TradesRecorded(TapeEvent):
    """A batch of trades, in column form (one event holds many trades so ingest is fast)."""

    symbol: Symbol
    first_sequence: int
    """Position of the first trade of this batch on the session tape (0-based)."""
    trade_ids: tuple[int, ...]
    timestamps_ms: tuple[int, ...]
    prices: tuple[int, ...]
    volumes: tuple[int, ...]
    aggressors: str
    flags: tuple[int, ...]

    def apply(self, aggregate: MarketTape) -> None:
        if not self.trade_ids:
            return
        if aggregate.reference_price is None:
            aggregate.reference_price = units_to_price(self.prices[0])
        aggregate.seen_trade_ids.update(self.trade_ids)
        aggregate.last_timestamp_ms = self.timestamps_ms[-1]
        aggregate.last_price_units = self.prices[-1]
        aggregate.trade_count += len(self.trade_ids)

    def trades(self) -> Iterator[Trade]:
        """Yield the batch as Trade values."""
        for trade_id, ts, price, volume, aggressor, flags in zip(
            self.trade_ids,
            self.timestamps_ms,
            self.prices,
            self.volumes,
            self.aggressors,
            self.flags,
            strict=True,
        ):
            yield Trade(
                self.symbol,
                trade_id,
                ts,
                units_to_price(price),
                volume,
                Aggressor(aggressor),
                bool(flags & CANCELLED),
                bool(flags & CROSS),
            )

    def __len__(self) -> int:
        return len(self.trade_ids)


class MarketTape(AggregateRoot[TapeEvent]):
    """The trades of one symbol in one session, with the tape's invariants."""

    def _reset(self) -> None:
        self.symbol = Symbol("WINZ25")
        self.session = date(1970, 1, 1)
        self.reference_price: Decimal | None = None
        self.band_fraction: Decimal | None = None
        self.seen_trade_ids = TradeIdSet()
        self.last_timestamp_ms = -1
        self.last_price_units = 0
        self.trade_count = 0

    @classmethod
    def open(
        cls,
        symbol: Symbol,
        session: date,
        at: datetime,
        *,
        reference_price: Decimal | None = None,
        band_fraction: Decimal | None = Decimal("0.2"),
    ) -> MarketTape:
        tape = cls.__new__(cls)
        AggregateRoot.__init__(tape, session_tape_id(symbol, session))
        tape._reset()
        tape._trigger(
            TapeOpened,
            at,
            symbol=symbol,
            session=session,
            reference_price=reference_price,
            band_fraction=band_fraction,
        )
        return tape

    def record(self, trades: TradeColumns, at: datetime) -> TradesRecorded:
        """Validate a batch against the tape's rules and record it as one event."""
        self._check(trades)
        return self._trigger(
            TradesRecorded,
            at,
            symbol=self.symbol,
            first_sequence=self.trade_count,
            trade_ids=tuple(trades.trade_ids),
            timestamps_ms=tuple(trades.timestamps_ms),
            prices=tuple(trades.prices),
            volumes=tuple(trades.volumes),
            aggressors="".join(trades.aggressors),
            flags=tuple(trades.flags),
        )

    def _check(self, trades: TradeColumns) -> None:
        if not len(trades):
            raise InvalidTrade(f"empty trade batch for {self.symbol.ticker}")
        columns = (
            trades.trade_ids,
            trades.timestamps_ms,
            trades.prices,
            trades.volumes,
            trades.aggressors,
            trades.flags,
        )
        if len({len(column) for column in columns}) != 1:
            raise InvalidTrade(f"trade batch for {self.symbol.ticker}: columns differ in length")
        bad = set(trades.aggressors) - {"B", "S", "N"}
        if bad:
            raise InvalidTrade(f"trade batch for {self.symbol.ticker}: unknown aggressor {bad}")
        if self._passes_in_bulk(trades):
            return
        admission = TapeAdmission(self)
        rows = zip(
            trades.trade_ids, trades.timestamps_ms, trades.prices, trades.volumes, strict=True
        )
        for index, row in enumerate(rows):
            refusal = admission.admit(*row)
            if refusal is not None:
                raise InvalidTrade(
                    f"{refusal.message} (batch row {index})", row=index, trade_id=row[0]
                )

    def _passes_in_bulk(self, trades: TradeColumns) -> bool:
        """Check the whole batch with set and min/max operations (the common, clean case);
        when this says no, the trade-by-trade check finds and names the first bad row."""
        ids, timestamps, prices = trades.trade_ids, trades.timestamps_ms, trades.prices
        if not self.seen_trade_ids.isdisjoint(ids) or len(set(ids)) != len(ids):
            return False
        # Non-decreasing iff already sorted (timsort checks a sorted run in one C pass).
        if timestamps[0] < self.last_timestamp_ms or list(timestamps) != sorted(timestamps):
            return False
        lowest_price = min(prices)
        if min(trades.volumes) <= 0 or lowest_price <= 0:
            return False
        if max(trades.volumes) > MAX_VOLUME or min(ids) < 0 or max(ids) > MAX_TRADE_ID:
            return False
        if timestamps[0] < MIN_TIMESTAMP_MS or timestamps[-1] > MAX_TIMESTAMP_MS:
            return False
        if self.band_fraction is None:
            return True
        reference = self.reference_price
        centre = prices[0] if reference is None else price_to_units(reference)
        width = int(centre * self.band_fraction)
        return centre - width <= lowest_price and max(prices) <= centre + width

    def admission(self) -> TapeAdmission:
        """Return a checker of this tape's rules, trade by trade, that never changes the tape."""
        return TapeAdmission(self)


DUPLICATE: Final = "duplicate_trade_id"
TIME_WENT_BACK: Final = "timestamp_before_previous"
OUTSIDE_BAND: Final = "price_outside_band"
BAD_PRICE: Final = "invalid_price"
BAD_VOLUME: Final = "invalid_volume"
BAD_TRADE_ID: Final = "invalid_trade_id"
BAD_TIMESTAMP: Final = "invalid_timestamp"
MAX_VOLUME: Final = 2**31 - 1
"""The projections store a trade's volume as int32 (the spec's Parquet layout)."""
MAX_TRADE_ID: Final = 2**63 - 1
ADMITTED_PRUNE_AT: Final = 8_192
"""Admitted ids kept before those the tape now holds are dropped (then twice what is left:
a store that is down keeps its pending batches, and their ids, until it is back)."""


@dataclass(frozen=True, slots=True)
class TradeRefusal:
    """Why the tape refuses a trade: a short code (a metric label) and a sentence for people."""

    code: str
    message: str


class TapeAdmission:
    """The tape's rules applied one trade at a time: unique id in the session, time never going
    back, positive price inside the band, positive volume.

    `MarketTape.record` refuses a whole batch for one bad row; a live feed checks each trade
    here first so that one bad print never sinks the good ones. Admitted trades are remembered
    beside the tape's own state, which is only read: the tape changes only through its events.
    The checker reads the tape's own ids (live: another writer's trades count too) and keeps
    only the ids it admitted that the tape does not hold yet, so a session's ids are held once.
    """

    def __init__(self, tape: MarketTape) -> None:
        self.ticker = tape.symbol.ticker
        self._seen = tape.seen_trade_ids
        self._admitted: set[int] = set()
        """Admitted, not yet on the tape (a batch waiting to be written, or refused there)."""
        self._prune_at = ADMITTED_PRUNE_AT
        self.last_timestamp_ms = tape.last_timestamp_ms
        self._band_fraction = tape.band_fraction
        self.low, self.high = 1, 2**62
        reference = tape.reference_price
        self._centred = reference is not None or self._band_fraction is None
        if reference is not None:
            self._centre(price_to_units(reference))

    def admit(
        self, trade_id: int, timestamp_ms: int, price_units: int, volume: int
    ) -> TradeRefusal | None:
        """Accept a trade into this checker's state, or say why the tape would refuse it."""
        if not 0 <= trade_id <= MAX_TRADE_ID:
            return self._refuse(trade_id, BAD_TRADE_ID, f"must be within [0, {MAX_TRADE_ID}]")
        if not MIN_TIMESTAMP_MS <= timestamp_ms <= MAX_TIMESTAMP_MS:
            return self._refuse(
                trade_id,
                BAD_TIMESTAMP,
                f"timestamp {timestamp_ms} is outside epoch milliseconds 1970 to 9999",
            )
        if trade_id in self._seen or trade_id in self._admitted:
            return self._refuse(trade_id, DUPLICATE, "duplicate trade id in this session")
        if timestamp_ms < self.last_timestamp_ms:
            return self._refuse(
                trade_id,
                TIME_WENT_BACK,
                f"timestamp {timestamp_ms} is before the previous trade's {self.last_timestamp_ms}",
            )
        if price_units <= 0:
            return self._refuse(
                trade_id, BAD_PRICE, f"price {units_to_price(price_units)} must be > 0"
            )
        if not 0 < volume <= MAX_VOLUME:
            return self._refuse(
                trade_id, BAD_VOLUME, f"volume {volume} must be within [1, {MAX_VOLUME}]"
            )
        if not self._centred:
            self._centre(price_units)  # the session's first trade sets the band, as on the tape
            self._centred = True
        if not self.low <= price_units <= self.high:
            return self._refuse(
                trade_id,
                OUTSIDE_BAND,
                f"price {units_to_price(price_units)} outside the band "
                f"[{units_to_price(self.low)}, {units_to_price(self.high)}]",
            )
        admitted = self._admitted
        admitted.add(trade_id)
        if len(admitted) >= self._prune_at:
            self._admitted = {one for one in admitted if one not in self._seen}
            self._prune_at = max(ADMITTED_PRUNE_AT, 2 * len(self._admitted))
        self.last_timestamp_ms = timestamp_ms
        return None

    def _centre(self, centre: int) -> None:
        if self._band_fraction is None:
            return
        width = int(centre * self._band_fraction)
        self.low, self.high = centre - width, centre + width

    def _refuse(self, trade_id: int, code: str, why: str) -> TradeRefusal:
        return TradeRefusal(code, f"invalid trade {trade_id} ({self.ticker}): {why}")
