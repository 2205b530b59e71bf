"""Readers of B3 NEG trade files and Profit times-and-trades exports."""
