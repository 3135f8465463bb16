"""The console's customer-service inbox over HTTP (chalice's test client): the queue in the
service's order (senior and partner first, then the longest waiting) and the list of all; a
conversation's page with its window, orders and cases; the reply sent through the simulator and
recorded; WeChat's and the service's refusals shown with their code, nothing changed; every form
without the session's CSRF token 403 with nothing changed; untrusted text escaped."""
from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.tiers import Tier
from chalicelib.store.users import user_id_for
from tests.api.conftest import Api
from tests.api.console_client import ConsoleClient, text
from tests.api.test_authorization import snapshot
from tests.api.test_support_api import push


@pytest.fixture
def browser(client: Any) -> ConsoleClient:
    b = ConsoleClient(client)
    b.sign_in()
    return b


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)


def rows(html: str) -> list[str]:
    return re.findall(r'<a href="/console/support/([^"?]+)">', html)


def test_the_queue_serves_senior_and_partner_first_then_the_longest_waiting(api: Any, browser: ConsoleClient,
                                                                           clock: Any) -> None:
    admin = api.login("admin")[0]
    names = ["r-early", "senior", "r-late", "partner"]
    ids = {name: api.distributor(name)[1] for name in names}
    for name, tier in (("senior", Tier.SENIOR), ("partner", Tier.PARTNER)):
        status, _ = api.call("POST", f"/v1/admin/users/{ids[name]}/tier", {"tier": tier.value, "reason": "x"}, admin)
        assert status == 200
    for name in names:
        push(api, f"dev:{name}", f"{name} 在吗")
        clock.advance(minutes=10)
    browser.sign_in()  # the session's idle expiry (30 min) passed on the clock
    page = browser.get("/console/support")
    assert page.status_code == 200
    assert rows(text(page)) == [ids[n] for n in ("senior", "partner", "r-early", "r-late")]
    assert "高级分销商" in text(page) and "合伙人" in text(page) and "客服消息" in text(page)
    everything = browser.get("/console/support?status=all")
    assert sorted(rows(text(everything))) == sorted(ids.values())


def test_a_reply_is_sent_recorded_and_the_conversation_leaves_the_queue(api: Any, browser: ConsoleClient,
                                                                         deps: Deps) -> None:
    api.login("alice")
    push(api, "dev:alice", "我的快递到哪了")
    uid = user_id_for("dev:alice")
    page = browser.get(f"/console/support/{uid}")
    assert page.status_code == 200 and "我的快递到哪了" in text(page) and "还可回复 5 条" in text(page)
    token = browser.csrf(f"/console/support/{uid}")
    sent = browser.post(f"/console/support/{uid}/reply", {"csrf_token": token, "text": "今天送达"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/console/support/{uid}?done=reply"
    assert [m["text"]["content"] for m in deps.customer_service.sent("dev:alice")] == ["今天送达"]  # type: ignore[attr-defined]
    after = text(browser.get(f"/console/support/{uid}?done=reply"))
    assert "回复已发送" in after and "今天送达" in after and "还可回复 4 条" in after
    assert rows(text(browser.get("/console/support"))) == []


def test_a_closed_conversation_leaves_the_queue_with_its_reason(api: Any, browser: ConsoleClient) -> None:
    api.login("bob")
    push(api, "dev:bob", "广告")
    uid = user_id_for("dev:bob")
    token = browser.csrf(f"/console/support/{uid}")
    closed = browser.post(f"/console/support/{uid}/close", {"csrf_token": token, "reason": "广告"})
    assert closed.status_code == 303 and closed.headers["Location"] == "/console/support?done=close"
    assert rows(text(browser.get("/console/support"))) == []
    again = browser.post(f"/console/support/{uid}/close", {"csrf_token": token, "reason": "广告"})
    assert again.status_code == 409 and "CONVERSATION_CLOSED" in text(again)


def test_the_users_orders_and_cases_link_to_their_console_pages(api: Any, browser: ConsoleClient) -> None:
    from tests.api.test_after_sales_api import opened, shipped
    from tests.api.test_orders import order, product

    admin = api.login("admin")[0]
    buyer = api.login("carol")[0]
    pid = product(api, admin)["product_id"]
    oid = order(api, buyer, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    sent_oid, sent_pid = shipped(api, admin, buyer)
    case = opened(api, buyer, sent_oid, sent_pid)
    push(api, "dev:carol", "能改地址吗")
    page = text(browser.get(f"/console/support/{user_id_for('dev:carol')}"))
    assert f'href="/console/orders/{oid}"' in page and f'href="/console/orders/{sent_oid}"' in page
    cases = page[page.index('id="thread-cases"'):]
    assert case["case_id"] in cases and f'href="/console/orders/{sent_oid}"' in cases and "仅退款" in cases


@pytest.mark.parametrize("token", [None, "forged"])
def test_every_form_without_the_csrf_token_is_403_and_changes_nothing(api: Any, browser: ConsoleClient,
                                                                      deps: Deps, token: str | None) -> None:
    api.login("dave")
    push(api, "dev:dave")
    uid = user_id_for("dev:dave")
    before = snapshot()
    for path, fields in ((f"/console/support/{uid}/reply", {"text": "好的"}),
                         (f"/console/support/{uid}/close", {"reason": "重复"})):
        response = browser.post(path, fields if token is None else {**fields, "csrf_token": token})
        assert response.status_code == 403, (path, response.status_code)
    assert snapshot() == before
    assert deps.customer_service.sent("dev:dave") == []  # type: ignore[attr-defined]


def _bad(uid: str) -> list[tuple[str, dict[str, str], int, str]]:
    return [
        (f"/console/support/{uid}/reply", {"text": "   "}, 422, "VALIDATION_FAILED"),
        (f"/console/support/{uid}/reply", {"text": "长" * 1_001}, 422, "TEXT_TOO_LONG"),
        ("/console/support/nobody/reply", {"text": "好的"}, 404, "CONVERSATION_NOT_FOUND"),
        (f"/console/support/{uid}/close", {"reason": ""}, 422, "VALIDATION_FAILED"),
        ("/console/support/nobody/close", {"reason": "x"}, 404, "CONVERSATION_NOT_FOUND"),
    ]


@pytest.mark.parametrize("case", range(5))
def test_bad_input_is_refused_with_a_stable_code_and_changes_nothing(api: Any, browser: ConsoleClient, deps: Deps,
                                                                     case: int) -> None:
    api.login("erin")
    push(api, "dev:erin")
    uid = user_id_for("dev:erin")
    path, fields, status, code = _bad(uid)[case]
    token = browser.csrf()
    before = snapshot()
    response = browser.post(path, {**fields, "csrf_token": token})
    assert (response.status_code, code in text(response)) == (status, True), text(response)[:600]
    assert snapshot() == before and deps.customer_service.sent("dev:erin") == []  # type: ignore[attr-defined]


def test_the_window_and_the_limit_are_shown_as_the_servers_refusals(api: Any, browser: ConsoleClient,
                                                                     clock: Any) -> None:
    api.login("fay")
    push(api, "dev:fay")
    uid = user_id_for("dev:fay")
    token = browser.csrf(f"/console/support/{uid}")
    for n in range(5):
        assert browser.post(f"/console/support/{uid}/reply", {"csrf_token": token, "text": f"第{n}条"}).status_code == 303
    before = snapshot()
    limited = browser.post(f"/console/support/{uid}/reply", {"csrf_token": token, "text": "第六条"})
    assert limited.status_code == 409 and "REPLY_LIMIT_REACHED" in text(limited)
    assert "第六条</textarea>" in text(limited)  # the typed text is kept
    assert snapshot() == before
    clock.advance(hours=48, seconds=1)
    browser.sign_in()  # a fresh session: the old one expired on the clock
    token = browser.csrf(f"/console/support/{uid}")
    before = snapshot()
    closed = browser.post(f"/console/support/{uid}/reply", {"csrf_token": token, "text": "还在吗"})
    assert closed.status_code == 409 and "REPLY_WINDOW_CLOSED" in text(closed) and "已关闭" in text(closed)
    assert snapshot() == before


def test_a_users_text_and_nickname_are_escaped(api: Any, browser: ConsoleClient, deps: Deps) -> None:
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    deps.users.login("dev:mallory", "昵称" + evil, deps.clock())  # her first login: WeChat's nickname
    uid = user_id_for("dev:mallory")
    push(api, "dev:mallory", evil)
    for path in ("/console/support", f"/console/support/{uid}"):
        page = text(browser.get(path))
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the nickname and the text, as text
