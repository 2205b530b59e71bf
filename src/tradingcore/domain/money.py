"""Money: an exact amount in one currency, computed without the caller's decimal context."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Final

from tradingcore.domain.errors import DomainError

BRL: Final = "BRL"

EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    rounding=ROUND_HALF_EVEN,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
"""The only context money arithmetic uses: sums and products of finite decimals are exact in it
(an inexact result raises instead of rounding), whatever `decimal.getcontext()` says."""

CENT: Final = Decimal("0.01")


class CurrencyMismatch(DomainError):
    """Two amounts in different currencies were added, subtracted or compared."""


class InvalidMoney(DomainError):
    """An amount is not a finite exact number (a float, NaN, infinity or text)."""


def exact_decimal(value: Fraction) -> Decimal:
    """Return a Fraction whose denominator divides a power of ten as an exact Decimal."""
    numerator, denominator = value.numerator, value.denominator
    exponent = 0
    while denominator % 10 == 0:
        denominator //= 10
        exponent += 1
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
            numerator *= 10 // prime
            exponent += 1
    if denominator != 1:
        raise InvalidMoney(f"invalid amount {value}: not a finite decimal")
    sign = 1 if numerator < 0 else 0
    digits = tuple(int(digit) for digit in str(abs(numerator)))
    return Decimal((sign, digits, -exponent))


def divide_half_even(numerator: int, denominator: int) -> int:
    """Return numerator / denominator rounded half-even to an integer (exact, integers only)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def round_cents(value: Decimal | Fraction | int) -> int:
    """Return a value in currency units rounded half-even to a whole number of cents."""
    if isinstance(value, int):
        return value * 100
    numerator, denominator = value.as_integer_ratio()
    return divide_half_even(numerator * 100, denominator)


def cents_decimal(cents: int) -> Decimal:
    """Return a whole number of cents as an exact Decimal of currency units."""
    return Decimal(cents).scaleb(-2, EXACT)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency; shown with two decimals, never as -0.00."""

    amount: Decimal
    currency: str = BRL

    def __post_init__(self) -> None:
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
            raise InvalidMoney(
                f"invalid amount {amount!r}: money takes a Decimal or an int, not "
                f"{type(amount).__name__} (a float is not exact)"
            )
        amount = Decimal(amount)
        if not amount.is_finite():
            raise InvalidMoney(f"invalid amount {amount}: not finite")
        if amount.is_zero():
            amount = abs(amount)
        object.__setattr__(self, "amount", amount)

    @classmethod
    def of(cls, value: Decimal | int | str, currency: str = BRL) -> Money:
        """Return the money of an exact value (a string is parsed as a decimal number)."""
        if isinstance(value, str):
            try:
                value = Decimal(value)
            except decimal.InvalidOperation:
                raise InvalidMoney(f"invalid amount {value!r}: not a number") from None
        return cls(Decimal(value), currency)

    @classmethod
    def cents(cls, cents: int, currency: str = BRL) -> Money:
        """Return the money of a whole number of cents."""
        return cls(cents_decimal(cents), currency)

    @classmethod
    def zero(cls, currency: str = BRL) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def rounded(cls, value: Decimal | Fraction | int, currency: str = BRL) -> Money:
        """Return a value rounded half-even to the cent (the one rounding rule of money)."""
        return cls.cents(round_cents(value), currency)

    @property
    def in_cents(self) -> int:
        """Return the amount in cents, rounded half-even when it has sub-cent digits."""
        return round_cents(self.amount)

    @property
    def is_whole_cents(self) -> bool:
        scaled = self.amount.scaleb(2, EXACT)
        return scaled == scaled.to_integral_value()

    def to_cents(self) -> Money:
        """Return this amount rounded half-even to the cent."""
        return Money.cents(self.in_cents, self.currency)

    def fraction(self) -> Fraction:
        return Fraction(self.amount)

    @property
    def text(self) -> str:
        """Return the amount with exactly two decimals (half-even), never '-0.00'."""
        cents = self.in_cents
        sign = "-" if cents < 0 else ""
        units, rest = divmod(abs(cents), 100)
        return f"{sign}{units}.{rest:02d}"

    def __str__(self) -> str:
        return f"{self.text} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(
                f"currency mismatch: {self} and {other} are in different currencies"
            )

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(EXACT.add(self.amount, other.amount), self.currency)

    def __radd__(self, other: int) -> Money:
        # sum() starts from 0: the int zero is the only other addend money accepts.
        if other == 0 and not isinstance(other, Money):
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(EXACT.minus(self.amount), self.currency)

    def __abs__(self) -> Money:
        return Money(EXACT.abs(self.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        return Money(EXACT.multiply(self.amount, Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return not self.amount.is_zero()

    def split(self, part: int, whole: int) -> tuple[Money, Money]:
        """Split whole cents pro rata: (part/whole of it rounded half-even, the remainder)."""
        if not 0 <= part <= whole or whole <= 0:
            raise InvalidMoney(f"invalid split {part}/{whole}: need 0 <= part <= whole, whole > 0")
        numerator, denominator = self.amount.as_integer_ratio()
        share = Money.cents(
            divide_half_even(numerator * 100 * part, denominator * whole), self.currency
        )
        return share, self - share
