"""Projections: pure folds from events to rows."""
