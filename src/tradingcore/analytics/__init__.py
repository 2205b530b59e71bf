"""Analytics: incremental features, the online model and signal decisions."""
