"""A PNG of an HTML file, taken by headless Chromium (no plotting library needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

CANDIDATES: Final = ("chromium", "chromium-browser", "google-chrome", "chrome")
TIMEOUT_S: Final = 60


class ScreenshotError(RuntimeError):
    """Chromium is missing or failed to render the page."""


def chromium_path() -> str | None:
    """Return the Chromium to use: $TRADINGCORE_CHROMIUM, else the first one on PATH."""
    configured = os.environ.get("TRADINGCORE_CHROMIUM")
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(arguments: list[str]) -> subprocess.CompletedProcess[bytes]:
    binary = chromium_path()
    if binary is None:
        raise ScreenshotError("no Chromium found (set TRADINGCORE_CHROMIUM or install chromium)")
    with tempfile.TemporaryDirectory(prefix="tc-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ]
        try:
            return subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ScreenshotError(f"Chromium failed to start or finish: {error}") from None


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 1800) -> None:
    """Render `html` in headless Chromium and save a PNG of the page."""
    png.unlink(missing_ok=True)
    result = _run(
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
    )
    if not png.exists() or png.stat().st_size == 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ScreenshotError(f"Chromium wrote no screenshot of {html}: {detail[0]}")


def rendered_dom(html: Path) -> str:
    """Return the page's DOM as headless Chromium rendered it."""
    result = _run(["--dump-dom", html.resolve().as_uri()])
    if result.returncode != 0:
        raise ScreenshotError(f"Chromium could not render {html}: exit {result.returncode}")
    return result.stdout.decode("utf-8", errors="replace")
