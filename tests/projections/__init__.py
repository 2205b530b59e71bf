"""Tests of the projections: folds, Parquet output, runner, SQL and the commands."""
