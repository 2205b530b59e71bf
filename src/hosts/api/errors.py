"""Map domain errors to HTTP answers whose body names the field and the rule it broke."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from litestar.exceptions import HTTPException

from tradingcore.application.errors import IdempotencyConflict
from tradingcore.application.order_commands import OrderNotCancelable, OrderNotFound
from tradingcore.domain.errors import (
    DomainError,
    InvalidPrice,
    InvalidQuantity,
    InvalidSignal,
    InvalidSymbol,
    InvalidTimestamp,
    UnknownInstrument,
)
from tradingcore.domain.kill_switch import InvalidKillSwitchChange
from tradingcore.risk.limits import InvalidRiskLimits

FIELDS: Final[Mapping[type[DomainError], str]] = {
    InvalidPrice: "price",
    InvalidQuantity: "quantity",
    InvalidSymbol: "symbol",
    UnknownInstrument: "symbol",
    InvalidKillSwitchChange: "reason",
    InvalidRiskLimits: "limits",
    InvalidSignal: "signal",
    InvalidTimestamp: "tick_timestamp_ms",
}


class ApiError(HTTPException):
    """An HTTP error with Litestar's body shape: detail plus `extra` naming the field."""

    def __init__(self, status_code: int, detail: str, key: str | None = None) -> None:
        extra = [{"key": key, "message": detail}] if key else None
        super().__init__(status_code=status_code, detail=detail, extra=extra)


@contextmanager
def domain_errors(**fields: str) -> Iterator[None]:
    """Turn domain errors raised inside into 404/409/422 answers; `fields` overrides keys."""
    try:
        yield
    except OrderNotFound as error:
        raise ApiError(404, str(error)) from None
    except (IdempotencyConflict, OrderNotCancelable) as error:
        raise ApiError(409, str(error), fields.get("conflict")) from None
    except DomainError as error:
        key = fields.get(type(error).__name__) or _field_of(error)
        raise ApiError(422, str(error), key) from None


def _field_of(error: DomainError) -> str:
    for kind, key in FIELDS.items():
        if isinstance(error, kind):
            return key
    return "body"
