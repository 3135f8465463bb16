"""Debian's Chromium driven by Playwright (its own browser builds are never downloaded): open a
page as a phone does, and report what a person would notice: console errors, failed or foreign
requests, dialogs."""
from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None. ``make test`` installs chromium as root;
    CI must not silently skip, so there a missing browser is a failure, not a skip."""
    reason = None
    if not os.access(CHROMIUM, os.X_OK):
        how = "run `make chromium` as root" if shutil.which("apt-get") else "install Debian's chromium"
        reason = f"{CHROMIUM} is missing ({how})"
    elif importlib.util.find_spec("playwright") is None:
        reason = "the playwright package is missing (pip install -r requirements-dev.txt)"
    return reason


@dataclass
class Visit:
    """What happened while a page was open."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextmanager
def phone_visit(url: str) -> Iterator[Visit]:
    """Open ``url`` in headless Chromium with a phone's screen; yields once it has loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(**PHONE)
            page = context.new_page()
            visit = Visit(page)
            page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
            page.on("request", lambda r: visit.requests.append(r.url))
            page.on("requestfailed", lambda r: visit.failed.append(f"{r.url}: {r.failure}"))
            page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
            visit.page.goto(url, wait_until="load", timeout=30_000)
            yield visit
        finally:
            browser.close()


def charts(page: Any) -> dict[str, int]:
    """Data points drawn per chart (by the row field it charts)."""
    return page.eval_on_selector_all(
        "figure.chart", "els => Object.fromEntries(els.map(e => [e.dataset.field, e.querySelectorAll('.point').length]))")
