"""Result output: an aligned text table, CSV, JSON or a Parquet file."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS: Final = ("table", "csv", "json", "parquet")


def write_result(result: pa.Table, form: str, output: Path | None) -> None:
    """Write a query result in a format, to a file or stdout."""
    if form == "parquet":
        if output is None:
            raise ValueError("parquet output needs a file path")
        pq.write_table(result, output, compression="zstd")
        print(f"wrote {result.num_rows:,} rows to {output}", file=sys.stderr)
        return
    text = {"table": render_table, "csv": render_csv, "json": render_json}[form](result)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {result.num_rows:,} rows to {output}", file=sys.stderr)


def render_table(result: pa.Table) -> str:
    """Render rows as aligned columns, numbers right-aligned, with a row count."""
    names = result.column_names
    rows = [[_cell(value) for value in row] for row in _rows(result)]
    numeric = [
        pa.types.is_integer(field.type)
        or pa.types.is_floating(field.type)
        or pa.types.is_decimal(field.type)
        for field in result.schema
    ]
    widths = [
        max([len(name)] + [len(row[index]) for row in rows]) for index, name in enumerate(names)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(names)), line(["-" * width for width in widths])]
    out.extend(line(row) for row in rows)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def render_csv(result: pa.Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.column_names)
    for row in _rows(result):
        writer.writerow(["" if value is None else _plain(value) for value in row])
    return buffer.getvalue()


def render_json(result: pa.Table) -> str:
    """Render a JSON array of objects; times as ISO 8601, NaN as null."""
    names = result.column_names
    records = [
        {name: _json_value(value) for name, value in zip(names, row, strict=True)}
        for row in _rows(result)
    ]
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def _rows(result: pa.Table) -> list[tuple[Any, ...]]:
    """Return rows as tuples (column names may repeat in SQL results, so not dicts)."""
    return list(zip(*(column.to_pylist() for column in result.columns), strict=True))


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict | list | int | float | str | bool) or value is None:
        return value
    return str(value)
