"""Projections: pure folds from stored domain events to table rows (no I/O)."""
