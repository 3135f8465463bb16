"""The console's customer-service inbox in headless Chromium: a user's message pushed through the
dev route (signed, encrypted, into the real handler) appears in the inbox; the operator opens it
and replies; the WeChat simulator recorded the send. A user's stored XSS in her message and
nickname shows as text. No console error (CSP included), no serious accessibility violation."""
from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.services import auth
from chalicelib.store.users import user_id_for
from tests.browser.chromium import unavailable
from tests.browser.console import console_browser, console_server

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

SCRIPT = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


def dev_push(base: str, openid: str, text: str) -> dict[str, Any]:
    request = urllib.request.Request(base + "/v1/dev/support/messages", method="POST",
                                     data=json.dumps({"openid": openid, "text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_a_pushed_message_is_answered_from_the_inbox(client: Any, deps: Deps) -> None:
    auth.login("dev:admin", deps)
    auth.login("dev:alice", deps)
    deps.users.login("dev:mallory", "昵称" + SCRIPT, deps.clock())  # her first login: WeChat's nickname
    with console_server(client) as base, console_browser(base) as b:
        assert dev_push(base, "dev:alice", "我的快递到哪了")["status"] == "taken"
        assert dev_push(base, "dev:mallory", SCRIPT)["status"] == "taken"
        b.sign_in(next_path="/console/support")
        listed = b.page.locator("#conversations tbody tr").all_inner_texts()
        violations = b.serious_violations()
        b.shot("support-inbox.png")
        with b.page.expect_navigation():
            b.page.click("#conversations a:has-text('alice')")
        shown = b.page.locator("#messages").inner_text()
        window = b.page.locator("#thread-window").inner_text()
        violations += b.serious_violations()
        b.page.fill("#reply-text", "今天下午送达")
        with b.page.expect_navigation():
            b.page.click("#reply-form button[type=submit]")
        done = b.page.locator(".notice").inner_text()
        after = b.page.locator("#messages").inner_text()
        b.open("/console/support")
        left = b.page.locator("#conversations tbody tr").all_inner_texts()
        with b.page.expect_navigation():
            b.page.click("#conversations a:has-text('昵称')")
        evil_text = b.page.locator("#messages .message-text").first.inner_text()
        evil_name = b.page.locator("h1").inner_text()
        xss = b.page.evaluate("() => window.__xss === undefined")
        violations += b.serious_violations()
        b.shot("support-thread.png")
        errors = b.errors()

    assert len(listed) == 2 and any("我的快递到哪了" in row for row in listed)
    assert "我的快递到哪了" in shown and "还可回复 5 条" in window
    assert done == "回复已发送。" and "今天下午送达" in after
    assert len(left) == 1 and "昵称" in left[0]
    assert [m["text"]["content"] for m in deps.customer_service.sent("dev:alice")] == ["今天下午送达"]  # type: ignore[attr-defined]
    assert evil_text == SCRIPT and SCRIPT in evil_name and xss
    assert user_id_for("dev:alice")
    assert violations == [] and errors == []
