"""Parquet files and DuckDB SQL over them."""
