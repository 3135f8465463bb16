"""Pricing through HTTP (docs/promotions.md "Pricing"): each kind, quote = charge, the coupon used
once and given back, commission on what lines paid, purchase limits, and every refusal with
nothing changed. The test clock is Tuesday 2026-11-10, 12:00 in Shanghai."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import Api

ADDRESS = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}
TUESDAY = 2


@pytest.fixture
def admin(api: Api) -> str:
    return api.login("admin")[0]


@pytest.fixture
def shop(api: Api) -> dict[str, Any]:
    """A distributor and a buyer bound to them."""
    seller_token, seller, code = api.distributor("seller")
    buyer, buyer_id = api.login("buyer")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": code}, buyer)[0] == 200
    return {"seller": seller, "seller_token": seller_token, "buyer": buyer, "buyer_id": buyer_id}


def product(api: Api, admin: str, **fields: Any) -> str:
    body = {"name": "精华", "category": "beauty", "cost_fen": 3_000, "price_fen": 15_000, "stock": 20, **fields}
    status, answer = api.call("POST", "/v1/admin/products", body, admin)
    assert status == 201, answer
    return str(answer["product_id"])


def promotion(api: Api, admin: str, **body: Any) -> str:
    status, answer = api.call("POST", "/v1/admin/promotions", {"title": body.get("kind", "p"), **body}, admin)
    assert status == 201, answer
    return str(answer["promotion_id"])


def claimed(api: Api, admin: str, token: str, amount: int = 2_000, min_spend: int = 10_000) -> str:
    promotion_id = promotion(api, admin, kind="coupon", amount_fen=amount, min_spend_fen=min_spend, valid_days=7,
                             total=100, per_user=5)
    status, answer = api.call("POST", f"/v1/promotions/{promotion_id}/claim", None, token)
    assert status == 201, answer
    return str(answer["coupon_id"])


def body(items: list[dict[str, Any]], coupon_id: str | None = None) -> dict[str, Any]:
    return {"items": items, "address": ADDRESS, **({"coupon_id": coupon_id} if coupon_id else {})}


def quote(api: Api, token: str, items: list[dict[str, Any]], coupon_id: str | None = None) -> tuple[int, Any]:
    return api.call("POST", "/v1/orders/quote", body(items, coupon_id), token)


def checkout(api: Api, token: str, items: list[dict[str, Any]], coupon_id: str | None = None) -> tuple[int, Any]:
    return api.call("POST", "/v1/orders", body(items, coupon_id), token, headers={"Idempotency-Key": str(uuid.uuid4())})


def coupon_status(api: Api, token: str, coupon_id: str) -> str:
    for status in ("usable", "used", "expired"):
        items = api.call("GET", f"/v1/me/coupons?status={status}", None, token)[1]["items"]
        if any(c["coupon_id"] == coupon_id for c in items):
            return status
    return "none"


def stock(api: Api, admin: str, product_id: str) -> int:
    items = api.call("GET", f"/v1/admin/products?q={product_id}", None, admin)[1]["items"]
    return int(items[0]["stock"])


def test_every_kind_stacked_the_quote_is_what_checkout_charges_and_what_the_order_keeps(api, admin, shop):
    serum, mask = product(api, admin), product(api, admin, name="面膜", cost_fen=500, price_fen=3_000)
    nuts = product(api, admin, name="坚果", category="food", cost_fen=2_000, price_fen=5_000)
    promotion(api, admin, kind="bundle", items=[{"product_id": serum, "quantity": 1},
                                                {"product_id": mask, "quantity": 2}], price_fen=18_000)
    promotion(api, admin, kind="member_day", weekday=TUESDAY, discount_bp=1_000, categories=["food"])
    promotion(api, admin, kind="full_gift", min_spend_fen=20_000, gift={"product_id": mask, "quantity": 1})
    coupon_id = claimed(api, admin, shop["buyer"])
    items = [{"product_id": serum, "quantity": 1}, {"product_id": mask, "quantity": 2},
             {"product_id": nuts, "quantity": 1}]
    status, quoted = quote(api, shop["buyer"], items, coupon_id)
    assert status == 200, quoted
    pricing = quoted["pricing"]
    # bundle 210 → 180, nuts 50 → 45 (Tuesday, food), then 20 off: 205; ≥ 200: a mask free
    assert (pricing["items_fen"], pricing["discount_fen"], pricing["amount_fen"]) == (26_000, 5_500, 20_500)
    assert [p["kind"] for p in pricing["promotions"]] == ["bundle", "member_day", "coupon", "full_gift"]
    assert pricing["gifts"] == [{"product_id": mask, "sku_id": None, "name": "面膜", "quantity": 1}]
    assert sum(line["paid_fen"] for line in quoted["items"]) == 20_500
    assert [c["coupon_id"] for c in quoted["applicable_coupons"]] == [coupon_id]
    status, placed = checkout(api, shop["buyer"], items, coupon_id)
    assert status == 201 and placed["pricing"] == pricing and placed["amount_fen"] == 20_500
    order = api.call("GET", f"/v1/orders/{placed['order_id']}", None, shop["buyer"])[1]
    assert order["pricing"] == pricing
    assert [(x["quantity"], x["free_units"]) for x in order["items"]] == [(1, 0), (3, 1), (1, 0)]
    assert stock(api, admin, mask) == 17  # the gift left stock with the bought masks
    assert coupon_status(api, shop["buyer"], coupon_id) == "used"
    assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"
    paid = api.call("GET", f"/v1/orders/{placed['order_id']}", None, shop["buyer"])[1]
    expected = sum(x["paid_fen"] * 2_000 // 10_000 for x in order["items"][:2]) + order["items"][2]["paid_fen"] * 1_600 \
        // 10_000
    assert paid["commissions"] == [{"user_id": shop["seller"], "level": 1, "amount_fen": expected}]


def test_a_new_user_red_packet_prices_like_a_coupon(api, admin):
    promotion(api, admin, kind="new_user_coupon", amount_fen=1_000, min_spend_fen=0, valid_days=7)
    token, _ = api.login("newcomer")
    held = api.call("GET", "/v1/me/coupons?status=usable", None, token)[1]["items"]
    assert [c["amount_fen"] for c in held] == [1_000]
    serum = product(api, admin)
    status, placed = checkout(api, token, [{"product_id": serum, "quantity": 1}], held[0]["coupon_id"])
    assert status == 201 and placed["amount_fen"] == 14_000
    assert placed["pricing"]["promotions"][0]["kind"] == "new_user_coupon"


def test_the_coupon_comes_back_on_an_unpaid_cancellation_and_on_a_refund_before_shipment(api, admin, shop, clock):
    serum = product(api, admin)
    coupon_id = claimed(api, admin, shop["buyer"])
    placed = checkout(api, shop["buyer"], [{"product_id": serum, "quantity": 1}], coupon_id)[1]
    later = clock.advance(minutes=20)
    assert api.call("POST", "/v1/dev/jobs/cancel_unpaid", {"now": later.isoformat()})[0] == 200
    assert api.call("GET", f"/v1/orders/{placed['order_id']}", None, shop["buyer"])[1]["status"] == "cancelled"
    assert coupon_status(api, shop["buyer"], coupon_id) == "usable"
    again = checkout(api, shop["buyer"], [{"product_id": serum, "quantity": 1}], coupon_id)[1]
    api.call("POST", f"/v1/dev/pay/{again['order_id']}")
    status, refunded = api.call("POST", f"/v1/orders/{again['order_id']}/refund", {"reason": "不要了"}, shop["buyer"])
    assert status == 200 and refunded["status"] == "refunded"
    assert coupon_status(api, shop["buyer"], coupon_id) == "usable"


@pytest.mark.parametrize("case", ["someone_elses", "used", "below_minimum", "unknown"])
def test_a_coupon_not_usable_is_refused_by_quote_and_checkout_with_nothing_changed(api, admin, shop, case):
    serum = product(api, admin)
    coupon_id = claimed(api, admin, shop["buyer"], min_spend=20_000 if case == "below_minimum" else 0)
    token = shop["buyer"]
    if case == "someone_elses":
        token = api.login("other")[0]
    elif case == "used":
        assert checkout(api, token, [{"product_id": serum, "quantity": 1}], coupon_id)[0] == 201
    elif case == "unknown":
        coupon_id = "c-no-such-coupon"
    before = (stock(api, admin, serum), api.call("GET", "/v1/me/orders", None, token)[1]["items"])
    for call in (quote, checkout):
        status, answer = call(api, token, [{"product_id": serum, "quantity": 1}], coupon_id)
        assert status == 409 and answer["error"]["code"] == "COUPON_NOT_USABLE", answer
    assert (stock(api, admin, serum), api.call("GET", "/v1/me/orders", None, token)[1]["items"]) == before


def test_a_purchase_limit_counts_unpaid_orders_and_gives_back_a_cancelled_ones(api, admin, shop, clock):
    limited = product(api, admin, limit_per_user=2)
    assert checkout(api, shop["buyer"], [{"product_id": limited, "quantity": 2}])[0] == 201
    status, answer = checkout(api, shop["buyer"], [{"product_id": limited, "quantity": 1}])
    assert status == 409 and answer["error"]["code"] == "PURCHASE_LIMIT_REACHED"
    assert answer["error"]["limit_per_user"] == 2
    status, answer = quote(api, shop["buyer"], [{"product_id": limited, "quantity": 3}])
    assert status == 409 and answer["error"]["code"] == "PURCHASE_LIMIT_REACHED"
    assert stock(api, admin, limited) == 18
    assert checkout(api, api.login("another")[0], [{"product_id": limited, "quantity": 2}])[0] == 201  # per user
    later = clock.advance(minutes=20)
    api.call("POST", "/v1/dev/jobs/cancel_unpaid", {"now": later.isoformat()})
    assert checkout(api, shop["buyer"], [{"product_id": limited, "quantity": 2}])[0] == 201


def test_the_limit_is_set_and_lifted_by_patch_and_audited(api, admin, shop):
    limited = product(api, admin)
    status, edited = api.call("PATCH", f"/v1/admin/products/{limited}", {"limit_per_user": 1}, admin)
    assert status == 200 and edited["limit_per_user"] == 1
    audit = api.call("GET", "/v1/admin/audit?action=product.update", None, admin)[1]["items"][0]
    assert audit["before"] == {"limit_per_user": None} and audit["after"] == {"limit_per_user": 1}
    assert checkout(api, shop["buyer"], [{"product_id": limited, "quantity": 2}])[1]["error"]["code"] == \
        "PURCHASE_LIMIT_REACHED"
    status, edited = api.call("PATCH", f"/v1/admin/products/{limited}", {"limit_per_user": None}, admin)
    assert status == 200 and edited["limit_per_user"] is None
    assert checkout(api, shop["buyer"], [{"product_id": limited, "quantity": 2}])[0] == 201


@pytest.mark.parametrize(("path", "payload"), [
    ("/v1/orders/quote", {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS, "coupon_id": "a b"}),
    ("/v1/orders/quote", {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS, "coupon_id": 7}),
    ("/v1/orders/quote", {"items": [], "address": ADDRESS}),
    ("/v1/orders", {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS, "coupon_id": "x" * 65}),
])
def test_bad_pricing_input_is_422_and_changes_nothing(api, shop, path, payload):
    status, answer = api.call("POST", path, payload, shop["buyer"], headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 422 and answer["error"]["code"] == "VALIDATION_FAILED"
    assert api.call("GET", "/v1/me/orders", None, shop["buyer"])[1]["items"] == []


@pytest.mark.parametrize("limit", [0, -1, 10_001, "2"])
def test_a_bad_limit_per_user_is_422(api, admin, limit):
    serum = product(api, admin)
    status, answer = api.call("PATCH", f"/v1/admin/products/{serum}", {"limit_per_user": limit}, admin)
    assert status == 422 and answer["error"]["code"] == "VALIDATION_FAILED"


def test_an_after_sales_refund_of_a_discounted_line_refunds_what_its_units_were_paid(api, admin, shop, deps):
    serum = product(api, admin)
    coupon_id = claimed(api, admin, shop["buyer"], amount=1_000, min_spend=0)
    placed = checkout(api, shop["buyer"], [{"product_id": serum, "quantity": 3}], coupon_id)[1]  # 450 − 10
    api.call("POST", f"/v1/dev/pay/{placed['order_id']}")
    api.call("POST", f"/v1/admin/orders/{placed['order_id']}/ship", {"carrier": "SF", "tracking_no": "SF1234567890"},
             admin)
    status, case = api.call("POST", f"/v1/orders/{placed['order_id']}/after-sales",
                            {"kind": "refund_only", "lines": [{"product_id": serum, "quantity": 1}], "reason": "破损"},
                            shop["buyer"])
    assert status == 201 and case["refund_fen"] == 14_666  # 44,000 × 1/3, floored
