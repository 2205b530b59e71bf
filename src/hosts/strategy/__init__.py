"""Strategy hosting: load a strategy by import path, and `tradingcore backtest --strategy`."""
