"""The console's after-sales pages over HTTP (chalicelib/api/console_after_sales.py): the queue's
filters and orders, a case's page, approve / reject / receive through the API's services, and every
refusal (no CSRF token, a bad amount, an amount over the lines' paid amount, a decided case)
rendered with its stable code and changing nothing."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.console_client import ConsoleClient, text
from tests.api.test_after_sales_api import _photo, opened, shipped
from tests.api.test_authorization import snapshot


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


@pytest.fixture
def buyer(api: Any) -> tuple[str, str]:
    return api.login("buyer")


@pytest.fixture
def browser(client: Any) -> ConsoleClient:
    b = ConsoleClient(client)
    b.sign_in()
    return b


def case_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/console/after-sales/([^"?/]+)">', html)


def refused(browser: ConsoleClient, path: str, fields: dict[str, str], status: int, code: str) -> str:
    before = snapshot()
    response = browser.post(path, fields)
    assert response.status_code == status, text(response)[:800]
    assert code in text(response)
    assert snapshot() == before
    return text(response)


def test_the_queue_shows_open_cases_newest_or_oldest_first_and_filters_by_status(api, admin, buyer, browser, deps,
                                                                                 clock):
    token, _ = buyer
    first_order, first_product = shipped(api, admin, token)
    photo = _photo(api, token, deps)
    first = opened(api, token, first_order, first_product, photos=[photo], reason="屏幕碎了")
    clock.advance(minutes=1)
    second_order, second_product = shipped(api, admin, token)
    second = opened(api, token, second_order, second_product, kind="return_refund")
    newest = text(browser.get("/console/after-sales"))
    assert case_ids(newest) == [second["case_id"], first["case_id"]]
    assert f'src="{photo}"' in newest and "屏幕碎了" in newest and "¥150.00" in newest and "¥300.00" in newest
    assert f'/console/orders/{first_order}"' in newest and 'href="/console/after-sales"' in newest  # the menu
    oldest = text(browser.get("/console/after-sales?order=oldest"))
    assert case_ids(oldest) == [first["case_id"], second["case_id"]]
    api.call("POST", f"/v1/admin/after-sales/{second['case_id']}/approve", {}, admin)
    assert case_ids(text(browser.get("/console/after-sales?status=awaiting_return"))) == [second["case_id"]]
    assert case_ids(text(browser.get("/console/after-sales?status=refunded"))) == []
    bad = browser.get("/console/after-sales?status=lost")
    assert bad.status_code == 422 and "VALIDATION_FAILED" in text(bad)


def test_a_case_page_shows_its_order_lines_photos_and_return_parcel(api, admin, buyer, browser, deps):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token, quantity=3)
    photo = _photo(api, token, deps)
    case = opened(api, token, order_id, product_id, 2, kind="return_refund", photos=[photo])
    assert api.call("POST", f"/v1/admin/after-sales/{case['case_id']}/approve", {}, admin)[0] == 200
    status, _ = api.call("POST", f"/v1/after-sales/{case['case_id']}/return",
                         {"carrier": "ZTO", "tracking_no": "ZT1234567890"}, token)
    assert status == 200
    html = text(browser.get(f"/console/after-sales/{case['case_id']}"))
    assert "退货中" in html and "ZTO ZT1234567890" in html and f'src="{photo}"' in html
    assert "× 2，实付 ¥300.00" in html and "确认收货并退款" in html and "同意退货" not in html
    assert browser.get("/console/after-sales/as-nobody").status_code == 404


def test_approving_from_the_console_refunds_the_case_and_the_order(api, admin, buyer, browser):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, 1)
    path = f"/console/after-sales/{case['case_id']}"
    response = browser.post(path + "/approve", {"csrf_token": browser.csrf(path), "refund_yuan": "120.5"})
    assert response.status_code == 303 and response.headers["Location"] == path + "?done=approve"
    got = api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1]
    assert (got["status"], got["refund_fen"]) == ("refunded", 12_050)
    assert api.call("GET", f"/v1/orders/{order_id}", token=token)[1]["refunded_fen"] == 12_050
    entries = api.call("GET", "/v1/admin/audit?action=after_sales.approve", token=admin)[1]["items"]
    assert len(entries) == 1
    html = text(browser.get(path + "?done=approve"))
    assert "已同意" in html and "已退款" in html and 'id="refund-yuan"' not in html  # nothing left to decide
    order_page = text(browser.get(f"/console/orders/{order_id}"))
    assert "¥120.50" in order_page and f'href="/console/orders/{order_id}/after-sales"' in order_page
    cases = text(browser.get(f"/console/orders/{order_id}/after-sales"))
    assert case_ids(cases) == [case["case_id"]] and "已退款" in cases
    assert browser.get("/console/orders/o-nobody/after-sales").status_code == 404


@pytest.mark.parametrize(("amount", "status", "code"), [
    ("150.01", 422, "REFUND_EXCEEDS_PAID"),   # over the line's 150 yuan
    ("0", 422, "VALIDATION_FAILED"),
    ("12.345", 422, "VALIDATION_FAILED"),
    ("-5", 422, "VALIDATION_FAILED"),
    ("abc", 422, "VALIDATION_FAILED"),
])
def test_a_bad_amount_is_refused_beside_the_field_and_changes_nothing(api, admin, buyer, browser, amount, status,
                                                                      code):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, 1)
    path = f"/console/after-sales/{case['case_id']}"
    html = refused(browser, path + "/approve", {"csrf_token": browser.csrf(path), "refund_yuan": amount}, status, code)
    assert 'id="refund-error"' in html and f'value="{amount}"' in html  # the field keeps what was typed
    assert api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1]["status"] == "requested"


@pytest.mark.parametrize(("action", "fields"), [("approve", {}), ("reject", {"reason": "不符合"}), ("receive", {})])
@pytest.mark.parametrize("token", [None, "forged"])
def test_a_decision_without_the_sessions_csrf_token_is_403_and_changes_nothing(api, admin, buyer, browser, action,
                                                                                fields, token):
    buyer_token, _ = buyer
    order_id, product_id = shipped(api, admin, buyer_token)
    case = opened(api, buyer_token, order_id, product_id, 1, kind="return_refund")
    if action == "receive":
        api.call("POST", f"/v1/admin/after-sales/{case['case_id']}/approve", {}, admin)
    sent = dict(fields) if token is None else {**fields, "csrf_token": token}
    refused(browser, f"/console/after-sales/{case['case_id']}/{action}", sent, 403, "CSRF")


def test_reject_needs_a_reason_and_a_decided_case_refuses_another_decision(api, admin, buyer, browser):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, 1)
    path = f"/console/after-sales/{case['case_id']}"
    refused(browser, path + "/reject", {"csrf_token": browser.csrf(path), "reason": "  "}, 422, "VALIDATION_FAILED")
    response = browser.post(path + "/reject", {"csrf_token": browser.csrf(path), "reason": "已超过质保"})
    assert response.status_code == 303
    got = api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1]
    assert (got["status"], got["reject_reason"]) == ("rejected", "已超过质保")
    refused(browser, path + "/approve", {"csrf_token": browser.csrf(path)}, 409, "WRONG_CASE_STATUS")
    refused(browser, path + "/receive", {"csrf_token": browser.csrf(path)}, 409, "WRONG_CASE_STATUS")


def test_receiving_a_return_from_the_console_refunds_it(api, admin, buyer, browser):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, 1, kind="return_refund")
    path = f"/console/after-sales/{case['case_id']}"
    assert browser.post(path + "/approve", {"csrf_token": browser.csrf(path)}).status_code == 303
    assert api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1]["status"] == "awaiting_return"
    assert browser.post(path + "/receive", {"csrf_token": browser.csrf(path)}).status_code == 303
    got = api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1]
    assert (got["status"], got["refund_fen"]) == ("refunded", 15_000)


def test_a_stored_script_in_the_reason_is_escaped(api, admin, buyer, browser):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, 1, reason='<script>alert(1)</script><img src=x onerror="x()">')
    for page in ("/console/after-sales", f"/console/after-sales/{case['case_id']}",
                 f"/console/orders/{order_id}/after-sales"):
        html = text(browser.get(page))
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_oldest_first_queue_pages_across_shards_like_the_newest_first(api, admin, buyer, deps, clock):
    """The console's "longest waiting first": the service's ``oldest`` order, its cursor included."""
    from chalicelib.domain.after_sales import CaseStatus
    from chalicelib.services import after_sales

    token, _ = buyer
    made = []
    for _ in range(5):
        order_id, product_id = shipped(api, admin, token)
        clock.advance(seconds=1)
        made.append(opened(api, token, order_id, product_id)["case_id"])
    for oldest, expected in ((True, made), (False, made[::-1])):
        seen, cursor = [], None
        while True:
            items, cursor = after_sales.queue(CaseStatus.REQUESTED, 2, cursor, deps, oldest=oldest)
            assert len(items) <= 2
            seen += [c.case_id for c in items]
            if cursor is None:
                break
        assert seen == expected, oldest
