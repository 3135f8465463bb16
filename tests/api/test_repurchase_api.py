"""GET /v1/admin/metrics carries the repurchase cycle per category (docs/metrics.md "Repurchase
cycle"): orders paid through the API on two days, the figures live before the job and stored
after it, beside the seed's cycle; admin only."""
from __future__ import annotations

from tests.api.test_orders import order, product


def pay_one(api, token: str, product_id: str) -> None:
    status, placed = order(api, token, [{"product_id": product_id, "quantity": 1}])
    assert status == 201, placed
    assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"


def test_the_metrics_answer_shows_each_categorys_median_beside_the_seed(api, clock):
    admin, _ = api.login("admin")
    buyer, _ = api.login("buyer")
    mask = product(api, admin, name="面膜", category="beauty", cost_fen=1_500, price_fen=5_000)["product_id"]
    pay_one(api, buyer, mask)
    clock.advance(days=40)  # 2026-12-20, 12:00 in Shanghai
    admin, buyer = api.login("admin")[0], api.login("buyer")[0]  # sessions last 7 days
    pay_one(api, buyer, mask)
    status, body = api.call("GET", "/v1/admin/metrics?from=2026-12-14&to=2026-12-20", token=admin)
    assert status == 200
    live = body["repurchase_cycles"]
    assert (live["as_of"], live["window_days"]) == ("2026-12-20", 180)
    assert live["categories"][0] == {"category": "beauty", "median_days": 40, "repurchases": 1, "seed_days": 30,
                                     "lag_days": 10}
    assert {c["category"]: c["median_days"] for c in live["categories"]} == {"beauty": 40, "food": None,
                                                                           "appliance": None}
    assert api.call("POST", "/v1/dev/jobs/compute_metrics", {"now": "2026-12-21T01:00:00+08:00"})[0] == 200
    clock.advance(days=1)
    stored = api.call("GET", "/v1/admin/metrics?from=2026-12-14&to=2026-12-20", token=admin)[1]["repurchase_cycles"]
    assert stored == live


def test_before_any_repurchase_every_seed_category_shows_without_a_median(api):
    admin, _ = api.login("admin")
    body = api.call("GET", "/v1/admin/metrics?from=2026-11-01&to=2026-11-10", token=admin)[1]
    assert {(c["category"], c["median_days"], c["repurchases"]) for c in body["repurchase_cycles"]["categories"]} == {
        ("beauty", None, 0), ("food", None, 0), ("appliance", None, 0)}


def test_a_range_before_any_figures_has_none_and_users_are_refused(api):
    admin, _ = api.login("admin")
    user, _ = api.login("visitor")
    assert api.call("GET", "/v1/admin/metrics?from=2026-01-01&to=2026-01-31", token=admin)[1]["repurchase_cycles"] is None
    status, body = api.call("GET", "/v1/admin/metrics?from=2026-11-01&to=2026-11-10", token=user)
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"
