"""Signing in to the console in headless Chromium."""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.browser.chromium import unavailable
from tests.browser.console import console_browser, console_server
from tests.unit.qr import qr_holds

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


def test_the_development_sign_in_opens_the_orders_page(client: Any) -> None:
    with console_server(client) as base, console_browser(base) as b:
        b.open("/console/orders")
        assert b.page.url.startswith(base + "/console/login")
        b.sign_in()
        assert b.page.url == base + "/console/orders"
        assert b.page.locator("h1").inner_text() == "订单"
        session = b.cookies()["__Host-fx_console"]
        assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
        violations = b.serious_violations()
        b.shot("orders-empty.png")
        assert violations == []
        assert b.errors() == []


def _post(url: str, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def _scan(base: str, who: str, scene: str) -> tuple[int, Any]:
    """The mini-program: log in as ``dev:<who>`` and confirm the scanned scene."""
    token = _post(base + "/v1/auth/login", body={"code": f"dev:{who}"})[1]["token"]
    return _post(f"{base}/v1/console/logins/{scene}/confirm", token)


def test_an_admin_scanning_the_code_signs_the_waiting_browser_in(client: Any) -> None:
    with console_server(client) as base, console_browser(base) as b:
        b.open("/console/login?next=/console/orders")
        code = b.page.locator("img.code")
        scene = code.get_attribute("data-scene")
        png = base64.b64decode(code.get_attribute("src").split(",", 1)[1])
        violations = b.serious_violations()
        b.shot("sign-in.png")
        assert qr_holds(png, f"pages/console/login?scene={scene}")  # what the phone's camera reads
        assert _scan(base, "admin", scene) == (200, {"status": "confirmed"})
        b.page.wait_for_url(base + "/console/orders", timeout=10_000)  # the page polls every 2 s
        assert b.page.locator("h1").inner_text() == "订单"
        assert violations == [] and b.errors() == []
        assert _scan(base, "admin", scene)[1]["error"]["code"] == "LOGIN_SCENE_USED"  # one use


def test_a_user_who_is_not_an_admin_scanning_the_code_is_refused_and_the_browser_waits(client: Any) -> None:
    with console_server(client) as base, console_browser(base) as b:
        b.open("/console/login")
        scene = b.page.locator("img.code").get_attribute("data-scene")
        status, body = _scan(base, "mallory", scene)
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
        b.page.wait_for_timeout(2_500)  # a poll went by
        assert b.page.url.startswith(base + "/console/login")
        assert "__Host-fx_console" not in b.cookies()
        assert b.page.locator("#wait").inner_text().startswith("等待扫码确认")
