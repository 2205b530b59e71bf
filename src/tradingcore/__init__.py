"""tradingcore: an event-sourced trading core for B3 (Brazil)."""

__version__ = "0.1.0"
