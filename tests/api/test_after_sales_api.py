"""After-sales cases over HTTP (API.md v1.1 "After-sales", docs/after-sales.md): every transition
and every refusal, each refusal changing nothing."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_authorization import snapshot
from tests.api.test_orders import order, product
from tests.images import uploaded


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


@pytest.fixture
def buyer(api: Any) -> tuple[str, str]:
    return api.login("buyer")


def shipped(api: Any, admin: str, token: str, quantity: int = 2, **fields: Any) -> tuple[str, str]:
    """A shipped order of ``quantity`` units of a new product (15,000 fen each): (order, product)."""
    product_id = product(api, admin, **fields)["product_id"]
    status, placed = order(api, token, [{"product_id": product_id, "quantity": quantity}])
    assert status == 201, placed
    assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"
    status, answer = api.call("POST", f"/v1/admin/orders/{placed['order_id']}/ship",
                              {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    assert status == 200, answer
    return placed["order_id"], product_id


def body(product_id: str, quantity: int = 1, kind: str = "refund_only", **more: Any) -> dict[str, Any]:
    return {"kind": kind, "lines": [{"product_id": product_id, "quantity": quantity}], "reason": "破损", **more}


def opened(api: Any, token: str, order_id: str, product_id: str, quantity: int = 1, kind: str = "refund_only",
           **more: Any) -> dict[str, Any]:
    status, case = api.call("POST", f"/v1/orders/{order_id}/after-sales", body(product_id, quantity, kind, **more),
                            token)
    assert status == 201, case
    return dict(case)


def refused(api: Any, method: str, path: str, data: Any, token: str, status: int, code: str) -> dict[str, Any]:
    before = snapshot()
    got, answer = api.call(method, path, data, token)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert snapshot() == before
    return dict(answer)


# Opening a case -----------------------------------------------------------------------------------

def test_a_buyer_opens_a_case_on_a_shipped_order_for_some_units_with_photos(api, admin, buyer, deps):
    token, buyer_id = buyer
    order_id, product_id = shipped(api, admin, token, quantity=3)
    photo = uploaded(deps, None)  # a product folder's URL is not a photo of ours
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id, 2, photos=[photo]), token, 422,
            "IMAGE_NOT_OURS")
    photo = _photo(api, token, deps)
    case = opened(api, token, order_id, product_id, 2, photos=[photo])
    assert (case["status"], case["kind"], case["order_id"], case["buyer_id"]) == ("requested", "refund_only", order_id,
                                                                                  buyer_id)
    assert case["refund_fen"] == case["requested_fen"] == 30_000 and case["photos"] == [photo]
    assert case["lines"] == [{"product_id": product_id, "sku_id": None, "quantity": 2, "unit_price_fen": 15_000,
                              "paid_fen": 30_000}]
    assert api.call("GET", f"/v1/after-sales/{case['case_id']}", token=token)[1] == {**case, "return_tracking": None}
    assert api.call("GET", f"/v1/after-sales/{case['case_id']}", token=admin)[1] == {**case, "return_tracking": None}
    other = api.login("other")[0]
    refused(api, "GET", f"/v1/after-sales/{case['case_id']}", None, other, 404, "CASE_NOT_FOUND")
    mine = api.call("GET", "/v1/me/after-sales", token=token)[1]
    assert [c["case_id"] for c in mine["items"]] == [case["case_id"]] and mine["next"] is None
    assert api.call("GET", "/v1/me/after-sales", token=other)[1]["items"] == []


def _photo(api: Any, token: str, deps: Any) -> str:
    """A buyer's photo, uploaded through the presigned form's key (moto's S3 in-process)."""
    from tests.images import png

    status, up = api.call("POST", "/v1/uploads", {"content_type": "image/png", "size_bytes": len(png()),
                                                  "purpose": "after_sales_photo"}, token)
    assert status == 201 and up["key"].startswith("after-sales/"), up
    deps.media.ensure_bucket()
    deps.media.client.put_object(Bucket=deps.settings.media_bucket, Key=up["key"], Body=png(),
                                 ContentType="image/png")
    return str(up["image_url"])


def test_photos_must_be_uploaded_and_at_most_nine(api, admin, buyer, deps):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    deps.media.ensure_bucket()
    status, up = api.call("POST", "/v1/uploads", {"content_type": "image/png", "size_bytes": 100,
                                                  "purpose": "after_sales_photo"}, token)
    assert status == 201
    path = f"/v1/orders/{order_id}/after-sales"
    refused(api, "POST", path, body(product_id, photos=[up["image_url"]]), token, 422, "IMAGE_NOT_UPLOADED")
    refused(api, "POST", path, body(product_id, photos=["https://evil.example/x.png"]), token, 422, "IMAGE_NOT_OURS")
    refused(api, "POST", path, body(product_id, photos=[up["image_url"]] * 10), token, 422, "VALIDATION_FAILED")
    refused(api, "POST", "/v1/uploads", {"content_type": "image/gif", "size_bytes": 100,
                                         "purpose": "after_sales_photo"}, token, 422, "UNSUPPORTED_IMAGE_TYPE")
    refused(api, "POST", "/v1/uploads", {"content_type": "image/png", "size_bytes": 100,
                                         "purpose": "product_image"}, token, 422, "VALIDATION_FAILED")


def test_a_case_needs_the_buyers_shipped_or_completed_order(api, admin, buyer):
    token, _ = buyer
    product_id = product(api, admin)["product_id"]
    unpaid = order(api, token, [{"product_id": product_id, "quantity": 1}])[1]["order_id"]
    paid = order(api, token, [{"product_id": product_id, "quantity": 1}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{paid}")
    for order_id in (unpaid, paid):
        refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id), token, 409, "WRONG_ORDER_STATUS")
    order_id, product_id = shipped(api, admin, token)
    other = api.login("other")[0]
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id), other, 404, "ORDER_NOT_FOUND")
    refused(api, "POST", "/v1/orders/o-none/after-sales", body(product_id), token, 404, "ORDER_NOT_FOUND")


def test_lines_must_be_the_orders_and_within_what_was_bought(api, admin, buyer):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token, quantity=2)
    path = f"/v1/orders/{order_id}/after-sales"
    for bad in (body("p-other"), body(product_id, 3),
                {**body(product_id), "lines": [{"product_id": product_id, "quantity": 1}] * 2},
                {**body(product_id), "lines": [{"product_id": product_id, "sku_id": "s1", "quantity": 1}]}):
        refused(api, "POST", path, bad, token, 422, "INVALID_LINES")
    for bad in (body(product_id, 0), {**body(product_id), "lines": []}, {**body(product_id), "reason": " "},
                {**body(product_id), "kind": "exchange"}, {**body(product_id), "extra": 1}):
        refused(api, "POST", path, bad, token, 422, "VALIDATION_FAILED")


def test_one_open_case_per_order_and_a_closed_one_frees_it(api, admin, buyer):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    first = opened(api, token, order_id, product_id)
    answer = refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id), token, 409, "CASE_OPEN")
    assert answer["error"]["case_id"] == first["case_id"]
    status, cancelled = api.call("POST", f"/v1/after-sales/{first['case_id']}/cancel", None, token)
    assert status == 200 and cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
    again = api.call("POST", f"/v1/after-sales/{first['case_id']}/cancel", None, token)
    assert again == (200, cancelled)
    second = opened(api, token, order_id, product_id)
    status, listed = api.call("GET", f"/v1/admin/orders/{order_id}/after-sales", token=admin)
    assert status == 200 and [c["case_id"] for c in listed["items"]] == [first["case_id"], second["case_id"]]
    refused(api, "GET", "/v1/admin/orders/o-none/after-sales", None, admin, 404, "ORDER_NOT_FOUND")


def test_the_window_closes_seven_days_after_receipt(api, admin, buyer, clock):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    late_id, late_product = shipped(api, admin, token)
    for oid in (order_id, late_id):
        assert api.call("POST", f"/v1/orders/{oid}/confirm", None, token)[1]["status"] == "completed"
    clock.advance(days=7, seconds=-1)
    token = api.login("buyer")[0]  # a week's session has expired; a new day's visit is marked
    opened(api, token, order_id, product_id)  # completed orders too, up to the last second
    clock.advance(seconds=1)
    answer = refused(api, "POST", f"/v1/orders/{late_id}/after-sales", body(late_product), token, 409,
                     "AFTER_SALES_WINDOW_CLOSED")
    assert answer["error"]["window_days"] == 7


def test_the_window_counts_from_the_carriers_delivery_when_it_comes_first(api, admin, buyer, clock):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    status, played = api.call("POST", f"/v1/dev/tracking/order-{order_id}", {"scenario": "delivered"})
    assert status == 200 and played["status"] == "applied", played
    delivered = api.call("GET", f"/v1/orders/{order_id}", token=token)[1]
    assert delivered["status"] == "shipped" and delivered["delivered_at"]
    clock.advance(days=7)
    token = api.login("buyer")[0]
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id), token, 409,
            "AFTER_SALES_WINDOW_CLOSED")


def test_the_window_is_a_setting(api, admin, buyer, clock):
    token, _ = buyer
    now = api.call("GET", "/v1/admin/settings", token=admin)[1]
    rules = {**now["rules"], "after_sales": {"window_days": 1}}
    assert api.call("PUT", "/v1/admin/settings", {"rules": rules, "expected_version": now["version"]}, admin)[0] == 200
    order_id, product_id = shipped(api, admin, token)  # placed under the new version: it keeps its rules
    api.call("POST", f"/v1/orders/{order_id}/confirm", None, token)
    clock.advance(days=1)
    token = api.login("buyer")[0]  # a new day's visit is marked
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id), token, 409,
            "AFTER_SALES_WINDOW_CLOSED")


# Decisions without money: reject, approve a return, the buyer's shipment ----------------------------

def test_reject_with_a_reason_closes_the_case_audited_and_nothing_else_moves_it(api, admin, buyer):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id)
    path = f"/v1/admin/after-sales/{case['case_id']}"
    refused(api, "POST", f"{path}/reject", {"reason": ""}, admin, 422, "VALIDATION_FAILED")
    refused(api, "POST", f"{path}/reject", {"reason": "x"}, token, 403, "FORBIDDEN")
    status, rejected = api.call("POST", f"{path}/reject", {"reason": "人为损坏"}, admin)
    assert status == 200 and (rejected["status"], rejected["reject_reason"]) == ("rejected", "人为损坏")
    assert rejected["decided_by"] == api.login("admin")[1]
    for method, sub, data, who in (("POST", "/reject", {"reason": "again"}, admin), ("POST", "/approve", {}, admin),
                                   ("POST", "/receive", None, admin)):
        refused(api, method, f"{path}{sub}", data, who, 409, "WRONG_CASE_STATUS")
    refused(api, "POST", f"/v1/after-sales/{case['case_id']}/cancel", None, token, 409, "WRONG_CASE_STATUS")
    audit = api.call("GET", "/v1/admin/audit?action=after_sales.reject", token=admin)[1]["items"]
    assert [(e["target"], e["reason"]) for e in audit] == [(f"case#{case['case_id']}", "人为损坏")]
    opened(api, token, order_id, product_id)  # the order is free for another case


def test_a_return_is_approved_then_shipped_back_by_the_buyer(api, admin, buyer):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id, kind="return_refund")
    cid = case["case_id"]
    refused(api, "POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "SF7654321"}, token, 409,
            "WRONG_CASE_STATUS")
    refused(api, "POST", f"/v1/admin/after-sales/{cid}/approve", {"refund_fen": 15_001}, admin, 422,
            "REFUND_EXCEEDS_PAID")
    refused(api, "POST", f"/v1/admin/after-sales/{cid}/approve", {"refund_fen": 0}, admin, 422, "VALIDATION_FAILED")
    status, approved = api.call("POST", f"/v1/admin/after-sales/{cid}/approve", {"refund_fen": 12_000}, admin)
    assert status == 200 and (approved["status"], approved["refund_fen"]) == ("awaiting_return", 12_000)
    assert api.call("POST", f"/v1/admin/after-sales/{cid}/approve", {}, admin) == (200, approved)  # a repeat
    refused(api, "POST", f"/v1/admin/after-sales/{cid}/approve", {"refund_fen": 100}, admin, 409, "WRONG_CASE_STATUS")
    refused(api, "POST", f"/v1/after-sales/{cid}/cancel", None, token, 409, "WRONG_CASE_STATUS")
    other = api.login("other")[0]
    refused(api, "POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "SF7654321"}, other, 404,
            "CASE_NOT_FOUND")
    refused(api, "POST", f"/v1/after-sales/{cid}/return", {"carrier": "飞鸽", "tracking_no": "SF7654321"}, token, 422,
            "INVALID_CARRIER")
    refused(api, "POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "a b"}, token, 422,
            "VALIDATION_FAILED")
    status, returning = api.call("POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "SF7654321"},
                                 token)
    assert status == 200 and (returning["status"], returning["return_tracking_no"]) == ("returning", "SF7654321")
    tracked = api.call("GET", f"/v1/after-sales/{cid}", token=admin)[1]["return_tracking"]
    assert (tracked["carrier"], tracked["tracking_no"], tracked["state"]) == ("SF", "SF7654321", "waiting")
    status, played = api.call("POST", f"/v1/dev/tracking/return-{cid}", {"scenario": "delivered"})
    assert status == 200 and played["status"] == "applied", played
    tracked = api.call("GET", f"/v1/after-sales/{cid}", token=token)[1]["return_tracking"]
    assert tracked["state"] == "delivered" and tracked["delivered_at"]  # the goods are back: the operator receives
    assert api.call("POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "SF7654321"},
                    token) == (200, returning)
    refused(api, "POST", f"/v1/after-sales/{cid}/return", {"carrier": "SF", "tracking_no": "SF0000000"}, token, 409,
            "WRONG_CASE_STATUS")
    status, rejected = api.call("POST", f"/v1/admin/after-sales/{cid}/reject", {"reason": "未收到退货"}, admin)
    assert status == 200 and rejected["status"] == "rejected"


def test_the_queue_lists_open_cases_by_status_newest_first_across_shards(api, admin, buyer, clock):
    token, _ = buyer
    made = []
    for _ in range(5):
        order_id, product_id = shipped(api, admin, token)
        clock.advance(seconds=1)
        made.append(opened(api, token, order_id, product_id)["case_id"])
    api.call("POST", f"/v1/admin/after-sales/{made[0]}/reject", {"reason": "x"}, admin)
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&next={cursor}" if cursor else "")
        status, page = api.call("GET", f"/v1/admin/after-sales{query}", token=admin)
        assert status == 200 and len(page["items"]) <= 2
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == made[:0:-1]
    requested = api.call("GET", "/v1/admin/after-sales?status=requested", token=admin)[1]["items"]
    assert [c["case_id"] for c in requested] == made[:0:-1]
    rejected = api.call("GET", "/v1/admin/after-sales?status=rejected", token=admin)[1]["items"]
    assert [c["case_id"] for c in rejected] == [made[0]]
    refused(api, "GET", "/v1/admin/after-sales?status=lost", None, admin, 422, "VALIDATION_FAILED")
    refused(api, "GET", "/v1/admin/after-sales?next=%%%", None, admin, 400, "INVALID_CURSOR")
    refused(api, "GET", "/v1/admin/after-sales", None, token, 403, "FORBIDDEN")


def test_a_product_says_whether_returned_goods_are_resold(api, admin):
    created = product(api, admin)
    assert created["resell_returns"] is False
    status, edited = api.call("PATCH", f"/v1/admin/products/{created['product_id']}", {"resell_returns": True}, admin)
    assert status == 200 and edited["resell_returns"] is True
    entries = api.call("GET", "/v1/admin/audit?action=product.update", token=admin)[1]["items"]
    assert entries[0]["after"] == {"resell_returns": True} and entries[0]["before"] == {"resell_returns": False}
    assert product(api, admin, resell_returns=True)["resell_returns"] is True


# Decisions with money: approve a refund only, receive a return ---------------------------------------

@pytest.fixture
def seller(api: Any, buyer: tuple[str, str]) -> tuple[str, str]:
    """A distributor the buyer is bound to (level 1 earns 20 % of beauty)."""
    token, seller_id, code = api.distributor("seller")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": code}, buyer[0])[0] == 200
    return token, seller_id


def wechat_refunds(deps: Any, order_id: str) -> dict[str, int]:
    return {no: fen for no, (fen, _) in deps.pay._orders[order_id].refunds.items()}


def test_approving_a_refund_only_case_refunds_its_units_once_and_the_commission_of_them(api, admin, buyer, seller,
                                                                                          deps):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token, quantity=2)
    case = opened(api, token, order_id, product_id, 1)
    path = f"/v1/admin/after-sales/{case['case_id']}/approve"
    status, refunded = api.call("POST", path, {}, admin)
    assert status == 200 and (refunded["status"], refunded["refund_fen"]) == ("refunded", 15_000)
    assert refunded["refunded_at"] and refunded["decided_by"] == api.login("admin")[1]
    assert api.call("POST", path, {}, admin) == (200, refunded)  # a second click: the same, no second refund
    assert wechat_refunds(deps, order_id) == {case["case_id"]: 15_000}
    got = api.call("GET", f"/v1/orders/{order_id}", token=token)[1]
    assert (got["status"], got["refunded_fen"], got["items"][0]["refunded_quantity"]) == ("shipped", 15_000, 1)
    commission = api.call("GET", "/v1/me/commissions", token=seller[0])[1]["items"][0]
    assert (commission["amount_fen"], commission["reversed_fen"]) == (3_000, 3_000)  # one unit of two kept
    entries = api.call("GET", "/v1/admin/audit?action=after_sales.approve", token=admin)[1]["items"]
    assert [e["after"] for e in entries] == [{"status": "approved", "refund_fen": 15_000}]
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id, 2), token, 422, "INVALID_LINES")
    last = opened(api, token, order_id, product_id, 1)
    assert api.call("POST", f"/v1/admin/after-sales/{last['case_id']}/approve", {"refund_fen": 10_000},
                    admin)[1]["status"] == "refunded"
    got = api.call("GET", f"/v1/orders/{order_id}", token=token)[1]
    assert (got["status"], got["refunded_fen"]) == ("refunded", 25_000)  # every unit back: the order is refunded
    assert wechat_refunds(deps, order_id) == {case["case_id"]: 15_000, last["case_id"]: 10_000}
    refused(api, "POST", f"/v1/orders/{order_id}/after-sales", body(product_id, 1), token, 409, "WRONG_ORDER_STATUS")


@pytest.mark.parametrize("resold", [True, False])
def test_receiving_a_return_refunds_the_approved_amount_and_restocks_only_what_is_resold(api, admin, buyer, deps,
                                                                                         resold):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token, quantity=2, resell_returns=resold)
    stock = api.call("GET", f"/v1/products/{product_id}", token=token)[1]["stock"]
    case = opened(api, token, order_id, product_id, 2, kind="return_refund")
    cid = case["case_id"]
    refused(api, "POST", f"/v1/admin/after-sales/{cid}/receive", None, admin, 409, "WRONG_CASE_STATUS")
    api.call("POST", f"/v1/admin/after-sales/{cid}/approve", {"refund_fen": 28_000}, admin)
    assert wechat_refunds(deps, order_id) == {}  # nothing moves before the goods are back
    api.call("POST", f"/v1/after-sales/{cid}/return", {"carrier": "中通", "tracking_no": "ZT7654321"}, token)
    status, received = api.call("POST", f"/v1/admin/after-sales/{cid}/receive", None, admin)
    assert status == 200 and (received["status"], received["refund_fen"]) == ("refunded", 28_000)
    assert received["received_at"] and received["return_carrier"] == "ZTO"
    assert api.call("POST", f"/v1/admin/after-sales/{cid}/receive", None, admin) == (200, received)
    assert wechat_refunds(deps, order_id) == {cid: 28_000}
    assert api.call("GET", f"/v1/products/{product_id}", token=token)[1]["stock"] == stock + (2 if resold else 0)
    assert api.call("GET", f"/v1/orders/{order_id}", token=token)[1]["status"] == "refunded"
    entries = api.call("GET", "/v1/admin/audit?action=after_sales.receive", token=admin)[1]["items"]
    assert [e["after"]["restocked"] for e in entries] == [[[product_id, None, 2]] if resold else []]
    refused(api, "POST", f"/v1/admin/after-sales/{cid}/reject", {"reason": "x"}, admin, 409, "WRONG_CASE_STATUS")


def test_a_refund_only_case_has_nothing_to_receive_and_a_return_is_received_without_a_shipment(api, admin, buyer):
    token, _ = buyer
    order_id, product_id = shipped(api, admin, token)
    case = opened(api, token, order_id, product_id)
    refused(api, "POST", f"/v1/admin/after-sales/{case['case_id']}/receive", None, admin, 409, "WRONG_CASE_STATUS")
    api.call("POST", f"/v1/after-sales/{case['case_id']}/cancel", None, token)
    back = opened(api, token, order_id, product_id, kind="return_refund")
    api.call("POST", f"/v1/admin/after-sales/{back['case_id']}/approve", {}, admin)
    status, received = api.call("POST", f"/v1/admin/after-sales/{back['case_id']}/receive", None, admin)
    assert status == 200 and received["status"] == "refunded" and received["return_tracking_no"] is None
