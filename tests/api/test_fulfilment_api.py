"""The operator's order list and batch shipping through HTTP: answers, and every refusal with the
state unchanged."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.store.admin import AdminItem

ADDRESS = {"name": "张三", "phone": "13800001234", "detail": "上海市徐汇区 1 号"}


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def world(api, admin, clock):
    """A distributor, a buyer bound to them, and three orders: two paid, one unpaid."""
    body = {"name": "精华", "category": "beauty", "cost_fen": 5_000, "price_fen": 15_000, "stock": 10}
    pid = api.call("POST", "/v1/admin/products", body, admin)[1]["product_id"]
    _, seller, code = api.distributor("seller")
    buyer, buyer_id = api.login("buyer")
    api.call("POST", "/v1/referrals/bind", {"invite_code": code}, buyer)
    ids = []
    for pay in (True, True, False):
        status, placed = api.call("POST", "/v1/orders", {"items": [{"product_id": pid, "quantity": 1}],
                                                         "address": ADDRESS}, buyer,
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201, placed
        if pay:
            api.call("POST", f"/v1/dev/pay/{placed['order_id']}")
        ids.append(placed["order_id"])
        clock.advance(minutes=1)
    return {"seller": seller, "buyer": buyer, "buyer_id": buyer_id, "paid": ids[:2], "unpaid": ids[2]}


def listed(api, admin, query=""):
    status, page = api.call("GET", f"/v1/admin/orders{query}", token=admin)
    assert status == 200, page
    return page


def test_the_list_answers_orders_with_their_buyer_and_shipping_report_newest_first(api, admin, world):
    page = listed(api, admin)
    assert [o["order_id"] for o in page["items"]] == [world["unpaid"], *reversed(world["paid"])]
    assert page["next"]  # the default 92 days are more than a page's 64 partitions: more further back
    first = page["items"][0]
    assert first["buyer_id"] == world["buyer_id"] and first["shipping_report"] is None
    mine = api.call("GET", f"/v1/orders/{world['unpaid']}", token=world["buyer"])[1]
    assert {k: v for k, v in first.items() if k not in ("buyer_id", "shipping_report")} == mine
    assert [o["order_id"] for o in listed(api, admin, "?status=paid&limit=1")["items"]] == [world["paid"][1]]
    assert len(listed(api, admin, f"?distributor_id={world['seller']}")["items"]) == 3
    assert len(listed(api, admin, f"?buyer_id={world['buyer_id']}&status=pending_payment")["items"]) == 1
    today = first["created_at"][:10]  # 12:00 in Shanghai: the same day in UTC
    assert len(listed(api, admin, f"?from={today}&to={today}")["items"]) == 3


def test_paging_with_next_walks_the_whole_list_once(api, admin, world):
    seen, query = [], "?limit=1"
    while True:
        page = listed(api, admin, query)
        seen += [o["order_id"] for o in page["items"]]
        if page["next"] is None:
            break
        query = f"?limit=1&next={page['next']}"
    assert seen == [world["unpaid"], *reversed(world["paid"])]


@pytest.mark.parametrize(("query", "status", "code"), [
    ("?from=2026-13-01", 400, "INVALID_DATE_RANGE"),
    ("?from=yesterday", 400, "INVALID_DATE_RANGE"),
    ("?from=2026-11-10&to=2026-11-01", 400, "INVALID_DATE_RANGE"),
    ("?from=2026-01-01&to=2026-11-10", 400, "INVALID_DATE_RANGE"),
    ("?buyer_id=u1&from=2026-11-10&to=2026-11-01", 400, "INVALID_DATE_RANGE"),
    ("?status=lost", 422, "VALIDATION_FAILED"),
    ("?shipping_report=reported", 422, "VALIDATION_FAILED"),
    ("?limit=0", 422, "VALIDATION_FAILED"),
    ("?limit=101", 422, "VALIDATION_FAILED"),
    ("?colour=red", 422, "VALIDATION_FAILED"),
    ("?next=not-a-cursor", 400, "INVALID_CURSOR"),
])
def test_bad_list_queries_are_refused_with_a_stable_code(api, admin, world, query, status, code):
    answer = api.call("GET", f"/v1/admin/orders{query}", token=admin)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)


def test_a_cursor_used_with_another_filter_is_invalid_cursor(api, admin, world):
    cursor = listed(api, admin, "?limit=1")["next"]
    answer = api.call("GET", f"/v1/admin/orders?status=paid&next={cursor}", token=admin)
    assert (answer[0], answer[1]["error"]["code"]) == (400, "INVALID_CURSOR")


def _ship_entries() -> int:
    return sum(1 for item in AdminItem.scan() if item.action == "order.ship")


def test_a_batch_answers_each_line_and_one_bad_line_does_not_stop_the_others(api, admin, world):
    a, b = world["paid"]
    lines = [{"order_id": a, "carrier": "顺丰", "tracking_no": "SF1234567"},
             {"order_id": "o-missing", "carrier": "SF", "tracking_no": "SF7654321"},
             {"order_id": world["unpaid"], "carrier": "SF", "tracking_no": "SF7654321"},
             {"order_id": b, "carrier": "UPS", "tracking_no": "1Z9999"},
             {"order_id": a, "carrier": "SF", "tracking_no": "SF1234567"}]
    status, answer = api.call("POST", "/v1/admin/orders/ship", {"shipments": lines}, admin)
    assert status == 200, answer
    results = answer["results"]
    assert (results[0]["order_id"], results[0]["status"], results[0]["shipping_report"]) == (a, "shipped", "reported")
    assert [r["error"]["code"] for r in results[1:]] == ["ORDER_NOT_FOUND", "WRONG_ORDER_STATUS", "INVALID_CARRIER",
                                                         "DUPLICATE_LINE"]
    assert api.call("GET", f"/v1/orders/{b}", token=admin)[1]["status"] == "paid"
    assert api.call("GET", f"/v1/orders/{world['unpaid']}", token=admin)[1]["status"] == "pending_payment"
    assert _ship_entries() == 1
    again = api.call("POST", "/v1/admin/orders/ship", {"shipments": lines[:1]}, admin)[1]["results"]
    assert again == [{"order_id": a, "status": "shipped", "shipping_report": "reported", "error": None}]
    assert _ship_entries() == 1
    shipped = listed(api, admin, "?status=shipped")["items"]
    assert [(o["order_id"], o["carrier"], o["shipping_report"]["state"]) for o in shipped] == [(a, "SF", "reported")]


@pytest.mark.parametrize("body", [
    {}, {"shipments": []}, {"shipments": "x"},
    {"shipments": [{"order_id": "o1", "carrier": "SF"}]},
    {"shipments": [{"order_id": "o1", "carrier": "SF", "tracking_no": "SF1234567", "extra": 1}]},
    {"shipments": [{"order_id": "o1", "carrier": "SF", "tracking_no": "SF1234567"}] * 101},
    {"shipments": [{"order_id": "o" * 65, "carrier": "SF", "tracking_no": "SF1234567"}]},
])
def test_a_malformed_batch_is_422_and_ships_nothing(api, admin, world, body):
    line = {"order_id": world["paid"][0], "carrier": "SF", "tracking_no": "SF1234567"}
    if body.get("shipments") and isinstance(body["shipments"], list):
        body = {"shipments": [line, *body["shipments"]]}
    answer = api.call("POST", "/v1/admin/orders/ship", body, admin)
    assert (answer[0], answer[1]["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert api.call("GET", f"/v1/orders/{world['paid'][0]}", token=admin)[1]["status"] == "paid"
    assert _ship_entries() == 0


def test_the_single_ship_route_audits_answers_the_report_and_refuses_other_tracking(api, admin, world):
    oid = world["paid"][0]
    bad = api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "顺风", "tracking_no": "SF1234567"}, admin)
    assert (bad[0], bad[1]["error"]["code"]) == (422, "INVALID_CARRIER")
    assert _ship_entries() == 0
    status, shipped = api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"},
                               admin)
    assert status == 200 and shipped["shipping_report"]["state"] == "reported"
    assert shipped["shipping_report"]["attempts"] == 1 and shipped["buyer_id"] == world["buyer_id"]
    same = api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    assert same == (200, shipped)
    other = api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF0000000"}, admin)
    assert (other[0], other[1]["error"]["code"]) == (409, "ALREADY_SHIPPED")
    assert api.call("GET", f"/v1/orders/{oid}", token=admin)[1]["tracking_no"] == "SF1234567"
    assert _ship_entries() == 1
