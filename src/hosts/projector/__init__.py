"""The projection host: Parquet projections, SQL and verification."""
