"""The analytics host: ticks to features to signals."""
