"""Read projected tables back for comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.parquet.duck import ProjectionSql
from tradingcore.projections.tables import TABLES


def all_rows(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Return every table's rows in a total order (notification id, then all columns)."""
    with ProjectionSql(root) as sql:
        return {
            name: [tuple(row.values()) for row in sql.query(_ordered(name)).to_pylist()]
            for name in TABLES
        }


def _ordered(name: str) -> str:
    view = "order_events" if name == "orders" else name
    return f"SELECT * FROM {view} ORDER BY ALL"
