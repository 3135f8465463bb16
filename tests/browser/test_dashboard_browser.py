"""The data board in headless Chromium, as a phone opens it: the HTML our route answers (headers
and all, Content-Security-Policy included) is served from a loopback server; it renders, every
chart has its data points, nothing is fetched from elsewhere, nothing is logged as an error, and a
screenshot is kept in test-artifacts/."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from chalicelib.services import dashboard
from chalicelib.web.board import CHARTS
from tests.browser.chromium import charts, phone_visit, unavailable
from tests.browser.sample_rows import HOSTILE, sample_rows
from tests.unit.loopback import serve_on_loopback

SKIPPED_DAYS = (3, 17)  # days the metrics job did not compute: gaps in the charts

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.fixture
def answer(client: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, str], bytes]:
    """``GET /v1/admin/dashboard`` as the app answers an admin (status, headers, body)."""
    monkeypatch.setattr(dashboard, "daily_rows", lambda f, t, deps: sample_rows(f, t, SKIPPED_DAYS))
    login = client.http.post("/v1/auth/login", body=json.dumps({"code": "dev:admin"}),
                             headers={"Content-Type": "application/json"})
    token = json.loads(login.body)["token"]
    response = client.http.get("/v1/admin/dashboard", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.status_code, dict(response.headers), response.body


def page_server(status: int, headers: dict[str, str], body: bytes) -> type[BaseHTTPRequestHandler]:
    """A loopback handler answering every GET with this status, these headers and this body."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Page


@pytest.fixture
def board_url(answer: tuple[int, dict[str, str], bytes]) -> Iterator[str]:
    with serve_on_loopback(page_server(*answer)) as base:
        yield base + "/v1/admin/dashboard"


def test_the_board_renders_on_a_phone_with_every_chart_and_no_error(board_url: str) -> None:
    with phone_visit(board_url) as visit:
        page = visit.page
        page.wait_for_selector("body[data-rendered]")
        drawn = charts(page)
        kpis = page.locator(".kpi").count()
        products = page.locator("#top-products tbody tr td.name").all_inner_texts()
        width = page.evaluate("document.documentElement.scrollWidth")
        shot = visit.screenshot("dashboard.png")

    # 30 days, two of them never computed: every chart has a point for each of the 28 others
    assert drawn == {field: 30 - len(SKIPPED_DAYS) for field, *_ in CHARTS}
    assert kpis == 6
    assert products[:2] == ["Hydrating face mask 补水面膜", "Health tea 养生茶"]
    assert products[2] == HOSTILE  # shown as text, never run
    assert visit.dialogs == []
    assert visit.console_errors == []  # a Content-Security-Policy violation would be one
    assert visit.requests == [board_url] and visit.failed == []  # no CDN, no favicon, nothing else
    assert width <= 390  # fits the phone's width
    assert shot.stat().st_size > 10_000


def test_a_script_the_policy_does_not_name_is_blocked(answer: tuple[int, dict[str, str], bytes]) -> None:
    """The policy is live, not decorative: the same page with its script changed by one space
    is refused by the browser."""
    status, headers, body = answer
    tampered = body.replace(b'"use strict";', b'"use strict"; ', 1)
    assert tampered != body
    with serve_on_loopback(page_server(status, headers, tampered)) as base, phone_visit(base + "/") as visit:
        rendered = visit.page.get_attribute("body", "data-rendered")
        errors = list(visit.console_errors)
    assert rendered is None and any("Content Security Policy" in e for e in errors)
