"""The API host: signals, orders with pre-trade risk, positions, kill switch."""
