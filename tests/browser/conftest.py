"""Playwright driving Debian's Chromium (never a downloaded browser), and page helpers.

The dashboard's Content-Security-Policy forbids eval, so waits poll attributes
from Python with a deadline instead of ``wait_for_function``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import require_binary

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HEADLINE = ("requests", "p95_ms", "error_rate", "active_users", "usage_events")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = require_binary("chromium", shutil.which("chromium"))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what it reported: console errors, uncaught exceptions, every request URL."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Watched]]:
    contexts = []

    def open_(**options: Any) -> Watched:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.on(
            "console",
            lambda m: watched.errors.append(m.text) if m.type in ("error", "warning") else None,
        )
        watched.page.on("pageerror", lambda e: watched.errors.append(str(e)))
        watched.page.on("request", lambda r: watched.requests.append(r.url))
        return watched

    yield open_
    for context in contexts:
        context.close()


def poll(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def refreshes(page: Page) -> int:
    return int(page.get_attribute("body", "data-refreshes") or 0)


def wait_view(page: Page, contains: str, *, after: int, timeout: float = 10.0) -> None:
    """Wait for a refresh after number ``after`` that showed a view whose URL has ``contains``."""

    def done() -> bool:
        view = page.get_attribute("body", "data-view") or ""
        return refreshes(page) > after and contains in view

    poll(done, timeout=timeout, what=f"a refresh showing {contains!r}")


def headline(page: Page) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for metric in HEADLINE:
        raw = page.get_attribute(f'[data-metric="{metric}"] .value', "data-value")
        values[metric] = float(raw) if raw else None
    return values


def change(page: Page, metric: str) -> float | None:
    raw = page.get_attribute(f'[data-metric="{metric}"] .change', "data-change")
    return float(raw) if raw else None
