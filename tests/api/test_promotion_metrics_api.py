"""Measuring the levers through HTTP (docs/promotions.md "Measuring the levers"): orders priced
by a bundle and a coupon, paid through WeChat Pay's simulator (a notification replayed), one
refunded before shipment; GET /v1/admin/metrics shows each promotion's redemptions, GMV, what it
gave away and the AOV of its orders beside the day's others, live and after the job alike."""
from __future__ import annotations

from tests.api.test_pricing_api import checkout, product, promotion

TODAY = "2026-11-10"  # the conftest clock: Tuesday 12:00 in Shanghai


def paid(api, token: str, items: list[dict], coupon_id: str | None = None) -> str:
    status, placed = checkout(api, token, items, coupon_id)
    assert status == 201, placed
    answer = api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]
    assert answer["status"] == "paid"
    note = answer["notification"]  # WeChat Pay sends it again: counted once
    assert api.call("POST", "/v1/wechat/pay/notify", raw=note["body"], headers=note["headers"])[0] == 200
    return str(placed["order_id"])


def today(api, admin: str) -> dict:
    status, body = api.call("GET", f"/v1/admin/metrics?from={TODAY}&to={TODAY}", token=admin)
    assert status == 200, body
    [row] = body["days"]
    return row


def test_each_promotions_day_beside_the_days_other_orders(api):
    admin = api.login("admin")[0]
    serum = product(api, admin)  # 150 yuan
    mask = product(api, admin, name="面膜", cost_fen=500, price_fen=3_000)
    bundle = promotion(api, admin, kind="bundle", title="精华面膜套餐",
                       items=[{"product_id": serum, "quantity": 1}, {"product_id": mask, "quantity": 2}],
                       price_fen=18_000)
    ann, bo, cy = api.login("ann")[0], api.login("bo")[0], api.login("cy")[0]
    coupon = promotion(api, admin, kind="coupon", title="满100减20", amount_fen=2_000, min_spend_fen=10_000,
                       valid_days=7, total=100, per_user=5)
    coupon_id = api.call("POST", f"/v1/promotions/{coupon}/claim", None, bo)[1]["coupon_id"]
    paid(api, ann, [{"product_id": serum, "quantity": 1}, {"product_id": mask, "quantity": 2}])  # 210 → 180
    refunded = paid(api, bo, [{"product_id": serum, "quantity": 1}], coupon_id)  # 150 − 20 = 130
    paid(api, cy, [{"product_id": mask, "quantity": 1}])  # 30, no promotion
    assert api.call("POST", f"/v1/orders/{refunded}/refund", {"reason": "不要了"}, bo)[1]["status"] == "refunded"

    row = today(api, admin)
    assert (row["orders"], row["avg_order_value_fen"]) == (3, 11_333)  # 34,000 / 3
    assert (row["promoted_orders"], row["promotion_discount_fen"]) == (2, 5_000)  # 3,000 (bundle) + 2,000
    assert (row["avg_order_value_promoted_fen"], row["avg_order_value_unpromoted_fen"]) == (15_500, 3_000)
    assert row["promotions"] == [
        {"promotion_id": bundle, "title": "精华面膜套餐", "kind": "bundle", "redemptions": 1, "orders": 1,
         "gmv_fen": 18_000, "discount_fen": 3_000, "avg_order_value_fen": 18_000,
         "avg_order_value_without_fen": 8_000},  # (34,000 − 18,000) / 2
        # the refund before shipment gave the coupon back: no redemption left, no GMV
        {"promotion_id": coupon, "title": "满100减20", "kind": "coupon", "redemptions": 0, "orders": 1, "gmv_fen": 0,
         "discount_fen": 2_000,
         "avg_order_value_fen": 13_000, "avg_order_value_without_fen": 10_500},  # (34,000 − 13,000) / 2
    ]
    assert api.call("POST", "/v1/dev/jobs/compute_metrics", {"now": "2026-11-11T01:00:00+08:00"})[0] == 200
    status, body = api.call("GET", f"/v1/admin/metrics?from={TODAY}&to={TODAY}", token=admin)
    assert status == 200 and body["days"] == [row]  # the stored row is the live one


def test_a_day_without_promotions_has_none_and_its_aov_is_the_unpromoted_one(api):
    admin = api.login("admin")[0]
    mask = product(api, admin, name="面膜", cost_fen=500, price_fen=3_000)
    paid(api, api.login("ann")[0], [{"product_id": mask, "quantity": 2}])
    row = today(api, admin)
    assert (row["promoted_orders"], row["promotion_discount_fen"], row["promotions"]) == (0, 0, [])
    assert (row["avg_order_value_promoted_fen"], row["avg_order_value_unpromoted_fen"]) == (0, 6_000)
