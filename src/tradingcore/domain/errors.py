"""Named domain errors: every broken rule says what was wrong and why."""


class DomainError(Exception):
    """Base of every rule violation raised by the domain."""


class InvalidPrice(DomainError):
    """A price is not positive, not finite, or off the instrument's tick grid."""


class InvalidQuantity(DomainError):
    """A quantity is not a positive whole number of the instrument's lot."""


class InvalidSymbol(DomainError):
    """A ticker does not follow a B3 format."""


class UnknownInstrument(DomainError):
    """No instrument spec can be inferred or was configured for a symbol."""


class InvalidOrderTransition(DomainError):
    """An order event is not allowed from the order's current status."""


class OverFill(DomainError):
    """A fill would exceed the order's remaining quantity."""


class InvalidTrade(DomainError):
    """A market trade breaks a tape rule (duplicate id, time going back, outside the band)."""

    def __init__(self, message: str, *, row: int | None = None, trade_id: int | None = None):
        super().__init__(message)
        self.row = row
        """The offending trade's position in its batch, when one trade is to blame."""
        self.trade_id = trade_id


class InvalidFillPrice(InvalidPrice):
    """A fill's price is not positive, is the market marker, is off the grid or goes through
    the order's limit (a buy above it, a sell below it)."""


class ConflictingFill(DomainError):
    """A trade id already booked on an order comes again with another price or quantity."""


class InvalidPositionFill(DomainError):
    """A fill cannot be applied to a position (wrong symbol, already applied)."""


class InvalidTimestamp(DomainError):
    """A timestamp is outside the range the stores and projections can hold."""


class InvalidSignal(DomainError):
    """A signal's direction, confidence or features are not valid."""


class RiskRejected(DomainError):
    """A pre-trade risk check refused an order; carries the reason code."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.reason = message
