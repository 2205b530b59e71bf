"""The application asks its instrument registry once per symbol."""

from __future__ import annotations

from tradingcore.application.trading import TradingApplication
from tradingcore.domain.instruments import Instrument, infer_instrument
from tradingcore.domain.values import Symbol
from tradingcore.ports.clock import ManualClock


def test_the_application_asks_for_each_symbols_spec_once() -> None:
    asked: list[Symbol] = []

    def registry(symbol: Symbol) -> Instrument:
        asked.append(symbol)
        return infer_instrument(symbol)

    app = TradingApplication(clock=ManualClock(), instruments=registry)
    win, wdo = Symbol("WINZ25"), Symbol("WDOF26")
    specs = [app.instruments(symbol) for symbol in (win, wdo, win, win, wdo)]
    assert asked == [win, wdo]
    assert specs[0] is specs[2] and specs[0] == infer_instrument(win)
