"""The backtest report as files: one self-contained HTML page, a PNG of it, and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.report.html import render_html
from adapters.report.screenshot import ScreenshotError, screenshot


def write_report(report: dict[str, Any], output: Path, *, png: bool = True) -> list[Path]:
    """Write report.json, report.html and (with Chromium) report.png; return their paths."""
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / "report.json"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    html_path = output / "report.html"
    html_path.write_text(render_html(report), encoding="utf-8")
    paths = [html_path, json_path]
    if png:
        png_path = output / "report.png"
        try:
            screenshot(html_path, png_path)
        except ScreenshotError as error:
            raise ScreenshotError(f"{error} (--no-png skips the PNG)") from None
        paths.append(png_path)
    return paths


__all__ = ["ScreenshotError", "render_html", "screenshot", "write_report"]
