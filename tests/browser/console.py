"""The browser-test helper of the console's pages (docs/console.md "Adding a page").

``console_server(client)`` serves the app (chalice's test client over moto, as the API tests use)
on a loopback port, one request at a time, so Chromium talks to the very routes, cookies and
headers (the Content-Security-Policy included) the function answers. ``console_browser(base)``
opens Debian's Chromium at 1280 × 800 (``TABLET`` for 768 × 1024), records console errors,
failed and foreign requests, and injects axe-core from the npm lock before any page script (an
init script: the page's CSP does not apply to it and the page needs no change).

    with console_server(client) as base, console_browser(base) as b:
        b.sign_in()                           # the development sign-in as dev:admin
        b.open("/console/orders")
        assert b.serious_violations() == []   # axe: no serious or critical violation
        b.shot("orders.png")                  # kept in test-artifacts/console/
        assert b.errors() == []               # console errors, CSP reports, failed requests
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import urlsplit

from tests.browser.chromium import ARGS, ARTIFACTS, CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TABLET = {"viewport": {"width": 768, "height": 1024}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SHOTS = ARTIFACTS / "console"


def _handler(client: Any) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = client.http.request(self.command, self.path, headers=headers, body=body)
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() in ("content-length", "connection"):
                    continue
                for one in value if isinstance(value, list) else [value]:
                    self.send_header(name, one)
            data = answer.body if isinstance(answer.body, bytes) else str(answer.body or "").encode()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    return Forward


@contextmanager
def console_server(client: Any) -> Iterator[str]:
    """The app on ``http://127.0.0.1:<port>``; one request at a time (moto is not thread-safe)."""
    server = HTTPServer(("127.0.0.1", 0), _handler(client))
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class ConsoleBrowser:
    base: str
    page: Any
    context: Any
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path, wait_until="load", timeout=30_000)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, name: str = "admin", next_path: str = "/console/orders") -> None:
        """The development sign-in (simulator mode), through the sign-in page's own form."""
        self.open(f"/console/login?next={next_path}")
        self.page.fill("#dev-name", name)
        with self.page.expect_navigation():
            self.page.click("form.dev button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def serious_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations of the page as it is now."""
        result = self.page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
        return [{"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:200] for n in v["nodes"]]}
                for v in json.loads(result) if v["impact"] in ("serious", "critical")]

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def errors(self) -> list[str]:
        """Everything a person would call broken: console errors (CSP violations among them),
        failed requests, requests to any other host."""
        return [*self.console_errors, *self.failed, *self.foreign]

    def cookies(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.context.cookies()}


@contextmanager
def console_browser(base: str, device: dict[str, Any] | None = None,
                    also: tuple[str, ...] = ()) -> Iterator[ConsoleBrowser]:
    """``also``: other origins the pages may reach (the media host, S3 for uploads)."""
    from playwright.sync_api import sync_playwright

    origins = {urlsplit(base).netloc, *(urlsplit(o).netloc for o in also)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(**(device or DESKTOP), locale="zh-CN")
            context.add_init_script(path=str(AXE))
            page = context.new_page()
            b = ConsoleBrowser(base, page, context)
            page.on("console", lambda m: b.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: b.console_errors.append(f"uncaught: {e}"))
            page.on("requestfailed", lambda r: b.failed.append(f"{r.url}: {r.failure}"))
            page.on("request", lambda r: b.foreign.append(r.url) if urlsplit(r.url).scheme in ("http", "https")
                    and urlsplit(r.url).netloc not in origins else None)
            yield b
        finally:
            browser.close()
