"""The report page rendered in headless Chromium: a non-blank PNG, and the JSON's numbers."""

from __future__ import annotations

import json
import os
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from adapters.report.html import show
from adapters.report.screenshot import chromium_path, rendered_dom
from hosts.cli import main

needs_chromium = pytest.mark.skipif(
    chromium_path() is None and os.environ.get("CI") != "true",
    reason="headless Chromium not installed (CI requires it)",
)


class KeyedCells(HTMLParser):
    """Collects the text of every element with a data-key attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append(dict(attrs).get("data-key"))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        key = next((item for item in reversed(self._open) if item), None)
        if key is not None:
            self.values[key] = self.values.get(key, "") + data


def lookup(report: dict[str, Any], key: str) -> Any:
    value: Any = report
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    if isinstance(value, list):
        return ", ".join(value)
    return value


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Decode a PNG's size and raw (filtered) scanlines: enough to see it is not blank."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, zlib.decompress(idat)


@needs_chromium
def test_the_report_renders_a_non_blank_png_and_the_page_shows_the_json_numbers(
    tmp_path: Path,
) -> None:
    output = tmp_path / "report"
    code = main(
        [
            "backtest",
            "--synthetic",
            "5000",
            "--strategy",
            "ma-cross",
            "--param",
            "fast=10",
            "--param",
            "slow=60",
            "--output",
            str(output),
            "--quiet",
        ]
    )
    assert code == 0
    width, height, pixels = png_pixels(output / "report.png")
    assert (width, height) == (1280, 1800)
    assert len(set(pixels)) > 50  # charts, text and tables, not one flat colour
    report = json.loads((output / "report.json").read_text())
    cells = KeyedCells()
    cells.feed(rendered_dom(output / "report.html"))
    assert len(cells.values) > 40
    for key, text in cells.values.items():
        assert text.strip() == show(lookup(report, key)), key
    assert cells.values["summary.net_pnl"] == report["summary"]["net_pnl"]
    assert cells.values["report_sha256"] == report["report_sha256"]
