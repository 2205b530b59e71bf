"""Request and response bodies of the REST API, kept apart from the domain objects.

Inputs are strict (no type coercion) and forbid unknown fields. Constrained strings use
`StringConstraints` because Litestar 2.25 drops `Field(pattern=...)` from the OpenAPI document.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from tradingcore.domain.timestamps import MAX_TIMESTAMP_MS

FUTURE: Final = r"[A-Z]{3}[FGHJKMNQUVXZ][0-9]{2}"
GENERIC_FUTURE: Final = r"[A-Z]{3}FUT"
STOCK: Final = r"[A-Z]{4}(?:3[1-5]|39|11|[3-8])F?"
OPTION: Final = r"[A-Z]{4}[A-X][0-9]{1,3}(?:W[0-9])?E?"
ORDER_SYMBOL_PATTERN: Final = rf"^(?:{FUTURE}|{STOCK}|{OPTION})$"
SIGNAL_SYMBOL_PATTERN: Final = rf"^(?:{FUTURE}|{GENERIC_FUTURE}|{STOCK}|{OPTION})$"
UUID_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

OrderSymbol = Annotated[str, StringConstraints(pattern=ORDER_SYMBOL_PATTERN)]
SignalSymbol = Annotated[str, StringConstraints(pattern=SIGNAL_SYMBOL_PATTERN)]
ClientOrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
FEATURE_NAME: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_FEATURES: Final = 256
ModelVersion = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:+-]{1,64}$")]
Reason = Annotated[str, StringConstraints(pattern=r"^\S[^\x00-\x1f]{0,499}$")]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]

MAX_PRICE: Final = 1_000_000_000


def _whole(value: Any) -> Any:
    """Accept 3.0 for 3 (JSON Schema calls it an integer); strings and 3.5 stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]


class StrictInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ExecuteIn(StrictInput):
    """An order as the spec sends it, plus an optional idempotency key."""

    symbol: OrderSymbol = Field(description="B3 contract or stock, e.g. WINZ25, PETR4")
    side: Literal["BUY", "SELL"]
    quantity: Annotated[Whole, Field(ge=1, le=1_000_000)]
    price: Annotated[float, Field(ge=-1, le=MAX_PRICE)] = Field(
        description="limit price on the instrument's tick grid, or -1 for a market order"
    )
    client_order_id: ClientOrderId = Field(  # type: ignore[assignment]
        default=None,
        description="idempotency key: a retry with the same one returns the original order",
    )


class SignalIn(StrictInput):
    """A model's decision as the analytics host posts it."""

    signal_id: Uuid = Field(  # type: ignore[assignment]
        default=None,
        description="the core's deterministic id of this signal; checked when given",
    )
    symbol: SignalSymbol
    direction: Literal["BUY", "SELL", "HOLD"]
    confidence: Annotated[float, Field(ge=0, le=1)]
    features: dict[str, float] = Field(default_factory=dict)
    """Names and count are checked by `check_features` (Litestar cannot express them)."""

    @field_validator("features")
    @classmethod
    def check_features(cls, features: dict[str, float]) -> dict[str, float]:
        if len(features) > MAX_FEATURES:
            raise ValueError(f"at most {MAX_FEATURES} features")
        bad = [name for name in features if not FEATURE_NAME.match(name)]
        if bad:
            raise ValueError(f"feature names {bad[:3]} must match {FEATURE_NAME.pattern}")
        return features

    model_version: ModelVersion
    tick_trade_id: Annotated[Whole, Field(ge=0, le=2**53)]
    tick_timestamp_ms: Annotated[Whole, Field(ge=0, le=MAX_TIMESTAMP_MS)]
    price: Annotated[float, Field(gt=0, le=MAX_PRICE)]


MAX_SIGNAL_BATCH: Final = 100


class ProgressMarkIn(StrictInput):
    """The sender has decided every tick of `symbol` up to this one and sent its signals."""

    symbol: SignalSymbol
    tick_trade_id: Annotated[Whole, Field(ge=0, le=2**53)]
    tick_timestamp_ms: Annotated[Whole, Field(ge=0, le=MAX_TIMESTAMP_MS)]


MAX_PROGRESS_MARKS: Final = 100


class SignalBatchIn(StrictInput):
    """Signals in the order they were decided, recorded (and traded) one after another."""

    signals: list[SignalIn] = Field(min_length=1, max_length=MAX_SIGNAL_BATCH)
    progress: list[ProgressMarkIn] = Field(
        default_factory=list,
        max_length=MAX_PROGRESS_MARKS,
        description="marks taken once every signal of the batch is (see /signals/progress)",
    )


class ProgressIn(StrictInput):
    """Progress marks without a signal (the signal source is ahead of its last signal)."""

    marks: list[ProgressMarkIn] = Field(min_length=1, max_length=MAX_PROGRESS_MARKS)


class ProgressOut(BaseModel):
    applied: int = Field(description="held trades applied because of these marks")


class KillSwitchIn(StrictInput):
    action: Literal["engage", "release"]
    reason: Reason = Field(description="why: kept in the audit trail")


Count = Annotated[Whole, Field(ge=0, le=1_000_000)]
Money = Annotated[float, Field(ge=0, le=1e12)]
Seconds = Annotated[float, Field(ge=0, le=86_400)]
Fraction = Annotated[float, Field(ge=0, le=1)]


def unchanged() -> Any:
    """Declare an optional field that is not nullable: omit it to keep the value."""
    return Field(default=None)


class RiskLimitsIn(StrictInput):
    """Limits to change; omitted ones stay as they are."""

    max_order_quantity: Count = unchanged()
    max_position: Count = unchanged()
    max_orders_per_window: Count = unchanged()
    max_order_notional: Money = unchanged()
    daily_loss_limit: Money = unchanged()
    price_band_fraction: Fraction = unchanged()
    market_data_max_age_seconds: Seconds = unchanged()
    duplicate_window_seconds: Seconds = unchanged()
    reason: Reason = Field(  # type: ignore[assignment]
        default=None, description="why: kept with the stored change and in the audit trail"
    )


class OrderOut(BaseModel):
    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: str
    quantity: int
    price: float
    status: str
    filled_quantity: int
    average_fill_price: float
    fees: str = Field(description="fees of the fills so far, R$ with two decimals")
    reason_code: str
    reason: str
    venue_order_id: str
    signal_id: str | None
    submitted_at: str


class SignalOut(BaseModel):
    signal_id: str
    symbol: str
    direction: str
    confidence: float
    features: dict[str, float]
    model_version: str
    tick_trade_id: int
    tick_timestamp_ms: int
    price: float


class SignalRecordedOut(BaseModel):
    signal: SignalOut
    created: bool
    order: OrderOut | None = Field(description="the order auto-execution sent, if any")
    skipped: str | None = Field(
        default=None,
        description="why auto-execution sent no order: ORDER_IN_FLIGHT, AT_TARGET, NO_TARGET, "
        "SIGNAL_LATE (the tape had passed its tick) or TAPE_NOT_SEEN (its tick never arrived)",
    )


class SignalBatchResultOut(BaseModel):
    status: int = Field(
        description="what POST /api/v1/signals would have answered for this signal alone: "
        "201 recorded, 200 already recorded, 422 refused; 503 not stored, the store failed "
        "after earlier signals of the batch were (send it again)"
    )
    recorded: SignalRecordedOut | None = Field(description="the answer's body when 200/201")
    error: str | None = Field(default=None, description="why it was refused")
    key: str | None = Field(default=None, description="the field the refusal names")


class SignalBatchOut(BaseModel):
    results: list[SignalBatchResultOut] = Field(description="one per signal, in their order")


class SignalsOut(BaseModel):
    signals: list[SignalOut]


NEXT_BEFORE = (
    "pass as `before` for the next, older page; null on the last page. A sequence number: the "
    "store's notification id of the row's first event"
)


class SignalPageOut(BaseModel):
    signals: list[SignalOut] = Field(description="newest first")
    next_before: int | None = Field(description=NEXT_BEFORE)


class OrdersOut(BaseModel):
    orders: list[OrderOut] = Field(description="newest first")
    next_before: int | None = Field(description=NEXT_BEFORE)


MONEY = 'R$ as a decimal string with two decimals, e.g. "-1234.50" (never "-0.00")'


class PositionOut(BaseModel):
    symbol: str
    net_quantity: int
    average_price: float = Field(description="exact average price of the open quantity, as float")
    currency: str = Field(description='currency of every amount here: "BRL"')
    gross_realized_pnl: str = Field(description=f"realized before fees; {MONEY}")
    fees: str = Field(description=f"every fee paid on the position's fills; {MONEY}")
    net_realized_pnl: str = Field(description=f"gross realized minus fees; {MONEY}")
    realized_pnl: str = Field(description=f"the net realized P&L again (older clients); {MONEY}")
    daily_realized_pnl: str = Field(description=f"net realized in today's session; {MONEY}")
    unrealized_pnl: str | None = Field(
        description=f"marked to the last trade, null when none is known; {MONEY}"
    )
    last_price: float | None


class PositionsOut(BaseModel):
    account: str
    currency: str
    positions: list[PositionOut]
    gross_realized_pnl: str
    fees: str
    net_realized_pnl: str
    realized_pnl: str = Field(description="net realized P&L of all positions")
    unrealized_pnl: str | None


class KillSwitchOut(BaseModel):
    engaged: bool
    actor: str
    reason: str
    changed_at: str | None
    canceled_orders: int = 0


class LimitsOut(BaseModel):
    max_order_quantity: int
    max_order_notional: float
    max_position: int
    daily_loss_limit: float
    price_band_fraction: float
    market_data_max_age_seconds: float
    max_orders_per_window: int
    throttle_window_seconds: float
    duplicate_window_seconds: float
    allowed_roots: list[str]


class RiskLimitsOut(BaseModel):
    limits: LimitsOut


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    store: dict[str, str | bool | int]
    broker: dict[str, str | bool]
    feed: dict[str, str | bool | float | None]
    kill_switch_engaged: bool | None


class ErrorItem(BaseModel):
    message: str
    key: str = Field(default="", description="the field at fault, when there is one")
    source: str = Field(default="", description="where the field is: body, query, path")


class ErrorOut(BaseModel):
    """Litestar's error body: `extra` names the field and the rule it broke."""

    status_code: int
    detail: str
    extra: list[ErrorItem] | dict[str, str] | None = None


INPUT_MODELS: Final = (
    ExecuteIn,
    SignalIn,
    SignalBatchIn,
    ProgressMarkIn,
    ProgressIn,
    KillSwitchIn,
    RiskLimitsIn,
)
