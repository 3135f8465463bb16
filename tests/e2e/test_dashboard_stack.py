"""End to end, as the operator opens the data board from the mini-program: the local stack
(DynamoDB Local + ``chalice local``) records today's visits and a paid order; the admin asks for
a board link and a phone's headless Chromium opens it, with no header, as a ``<web-view>`` would.
The board shows today's figures, computed live from the day's aggregates."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scripts.dev import run_stack
from scripts.procs import free_port, log_tail
from tests.browser.chromium import charts, phone_visit, unavailable

READY_TIMEOUT = 120.0
ADDRESS = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}
VISITORS = ("dev:board-ann", "dev:board-bo", "dev:board-cy")

reason = unavailable()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(reason is not None, reason=reason or "")]


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def login(base: str, code: str) -> str:
    status, answer = call(base, "POST", "/v1/auth/login", {"code": code})
    assert status == 200, answer
    return str(answer["token"])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "stack.log"
    try:
        with run_stack(free_port(), tmp_path / "db", READY_TIMEOUT, log_path=log,
                       env={"FENXIAO_MODE": "simulator"}) as url:
            yield url
    finally:
        print(log_tail(log, lines=60))


def visit_and_buy(base: str) -> str:
    """Three users view the home page today; the first buys one unit of a demo product. Returns
    that product's name."""
    now = datetime.now(UTC).isoformat()
    tokens = [login(base, code) for code in VISITORS]
    for i, token in enumerate(tokens):
        events = [{"type": "page_view", "session_id": f"s-{i}", "page": "/pages/index/index", "ts": now}]
        status, answer = call(base, "POST", "/v1/events", {"events": events}, token)
        assert status == 202, answer
    status, listed = call(base, "GET", "/v1/products", token=tokens[0])
    assert status == 200 and listed["items"], listed
    product = listed["items"][0]
    status, placed = call(base, "POST", "/v1/orders", {"items": [{"product_id": product["product_id"], "quantity": 1}],
                                                       "address": ADDRESS}, tokens[0],
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, placed
    status, paid = call(base, "POST", f"/v1/dev/pay/{placed['order_id']}")
    assert status == 200 and paid["status"] == "paid", paid
    return str(product["name"])


def test_the_operator_opens_todays_board_from_a_link_on_a_phone(stack: str) -> None:
    product_name = visit_and_buy(stack)
    admin = login(stack, "dev:admin")
    status, link = call(stack, "POST", "/v1/admin/dashboard/links", {"days": 7}, admin)
    assert status == 201, link

    with phone_visit(stack + link["url"]) as visit:
        visit.page.wait_for_selector("body[data-rendered]")
        drawn = charts(visit.page)
        headline = dict(zip(visit.page.locator(".kpi .label").all_inner_texts(),
                            visit.page.locator(".kpi .value").all_inner_texts(), strict=True))
        products = visit.page.locator("#top-products td.name").all_inner_texts()
        visit.screenshot("dashboard-stack.png")

    assert visit.console_errors == [] and visit.failed == [] and visit.requests == [stack + link["url"]]
    assert drawn["visitors"] >= 1 and drawn["gmv_fen"] >= 1 and drawn["orders"] >= 1
    assert headline["Visitors · 访客"] == str(len(VISITORS) + 1)  # and the admin: a login makes a visitor (DOMAIN.md §9)
    assert headline["GMV · 成交额"] != "–"
    assert products[0] == product_name
