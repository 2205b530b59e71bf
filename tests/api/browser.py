"""A real headless Chromium (Debian's chromium + chromium-driver) driven through WebDriver."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
SCREENSHOTS_ENV = "TRADINGCORE_SCREENSHOTS"
"""A folder to copy the screenshots to, to look at them."""


def require_chromium() -> tuple[str, str]:
    """Return (chromium, chromedriver); fail in CI, skip elsewhere, when either is missing."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        missing = "chromium" if CHROMIUM is None else "chromedriver"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing} is required in CI (scripts/test-services installs it)")
        pytest.skip(f"{missing} is not installed: apt-get install chromium chromium-driver")
    return CHROMIUM, CHROMEDRIVER


@contextmanager
def chrome(profile: Path, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh headless Chromium (its own profile folder), closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, check: Callable[[Any], Any], seconds: float, poll: float = 0.02) -> Any:
    """Wait until `check(driver)` is truthy; fail after `seconds`."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    try:
        return WebDriverWait(driver, seconds, poll_frequency=poll).until(check)
    except TimeoutException:
        copy_to = os.environ.get(SCREENSHOTS_ENV)
        if copy_to:
            Path(copy_to).mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(Path(copy_to) / "timeout.png"))
        logs = driver.execute_script("return document.body.innerText")
        raise AssertionError(f"not within {seconds} s; the page says:\n{logs[:3000]}") from None


def text_of(driver: Any, selector: str) -> str:
    """The visible text of an element, read in one script (the page re-renders as it goes)."""
    text = driver.execute_script("return document.querySelector(arguments[0]).innerText", selector)
    return str(text).replace("\xa0", " ")


def texts_of(driver: Any, selector: str) -> list[str]:
    """The visible text of every matching element, read in one script."""
    found: list[str] = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(node => node.innerText)",
        selector,
    )
    return [text.replace("\xa0", " ") for text in found]


def screenshot(driver: Any, path: Path, width: int) -> dict[str, int]:
    """Resize to `width`, save a full-page PNG, return the page's and the viewport's widths."""
    driver.set_window_size(width, 900)
    time.sleep(0.3)  # let the charts follow the new width (ResizeObserver)
    sizes: dict[str, int] = driver.execute_script(
        "return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " height: document.documentElement.scrollHeight}"
    )
    driver.set_window_size(width, min(sizes["height"] + 120, 6000))
    time.sleep(0.2)
    driver.save_screenshot(str(path))
    copy_to = os.environ.get(SCREENSHOTS_ENV)
    if copy_to:
        Path(copy_to).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(copy_to) / path.name)
    return sizes
