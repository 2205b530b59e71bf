"""Parquet projections of the event store, and DuckDB SQL over them."""
