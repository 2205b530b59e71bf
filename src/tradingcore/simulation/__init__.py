"""Seeded synthetic markets: deterministic, realistic enough to exercise everything."""
