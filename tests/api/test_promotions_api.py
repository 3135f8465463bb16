"""The promotions' HTTP contract (API.md v1.1 "Promotions"): each kind created, listed and ended
by the operator (audited), what buyers see, claiming coupons within their limits, the caller's
coupons, the red packet at the first login. Every refusal answers its code and changes no table."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_authorization import snapshot
from tests.api.test_catalogue_api import refused

# price 15,000, cost 5,000, beauty rates 20% + 5%: the largest payout (partner +10%, two 3% team
# bonuses) is 41% of what a unit is paid, so a unit must be paid at least 8,475 fen.
SERUM = {"name": "精华", "category": "beauty", "cost_fen": 5_000, "price_fen": 15_000, "stock": 50}
TEA = {"name": "花茶", "category": "food", "cost_fen": 2_000, "price_fen": 8_000, "stock": 50}

COUPON = {"kind": "coupon", "title": "满100减30", "amount_fen": 3_000, "min_spend_fen": 10_000, "valid_days": 7,
          "total": 2, "per_user": 1}
RED_PACKET = {"kind": "new_user_coupon", "title": "新人红包", "amount_fen": 1_000, "min_spend_fen": 5_000,
              "valid_days": 3}


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


@pytest.fixture
def serum(api: Any, admin: str) -> str:
    status, answer = api.call("POST", "/v1/admin/products", SERUM, admin)
    assert status == 201, answer
    return str(answer["product_id"])


@pytest.fixture
def tea(api: Any, admin: str, serum: str) -> str:
    status, answer = api.call("POST", "/v1/admin/products", TEA, admin)
    assert status == 201, answer
    return str(answer["product_id"])


def create(api: Any, admin: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = api.call("POST", "/v1/admin/promotions", body, admin)
    assert status == 201, answer
    return dict(answer)


def audit_actions(api: Any, admin: str) -> list[str]:
    status, answer = api.call("GET", "/v1/admin/audit", None, admin)
    assert status == 200, answer
    return [item["action"] for item in answer["items"]]


def test_each_kind_is_created_listed_newest_first_and_audited(api, admin, serum, tea, clock):
    bodies = [COUPON, RED_PACKET,
              {"kind": "full_gift", "title": "满300送茶", "min_spend_fen": 30_000,
               "gift": {"product_id": tea, "quantity": 1}},
              {"kind": "bundle", "title": "精华+茶", "items": [{"product_id": serum, "quantity": 1},
                                                           {"product_id": tea, "quantity": 1}], "price_fen": 21_000},
              {"kind": "member_day", "title": "周二会员日", "weekday": 2, "discount_bp": 1_000,
               "categories": ["beauty"]}]
    made = []
    for body in bodies:
        made.append(create(api, admin, body))
        clock.advance(seconds=1)
    assert [m["kind"] for m in made] == [b["kind"] for b in bodies]
    assert all(m["status"] == "running" for m in made)
    assert made[0]["terms"] == {"amount_fen": 3_000, "min_spend_fen": 10_000, "valid_days": 7, "total": 2,
                                "per_user": 1}
    assert made[3]["terms"]["items"][1] == {"product_id": tea, "sku_id": None, "quantity": 1}
    status, listed = api.call("GET", "/v1/admin/promotions", None, admin)
    assert status == 200
    assert [i["promotion_id"] for i in listed["items"]] == [m["promotion_id"] for m in reversed(made)]
    assert audit_actions(api, admin).count("promotion.create") == 5


def test_the_minimum_body_starts_now_and_runs_thirty_days(api, admin, serum, clock):
    made = create(api, admin, COUPON)
    assert made["starts_at"] == clock().isoformat().replace("+00:00", "Z")
    assert made["ends_at"].startswith("2026-12-10T04:00:00")


@pytest.mark.parametrize(("change", "code"), [
    ({"kind": "lottery"}, "VALIDATION_FAILED"),
    ({"amount_fen": 0}, "VALIDATION_FAILED"),
    ({"per_user": 3, "total": 2}, "INVALID_PROMOTION"),
    ({"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-11-01T00:00:00Z"}, "INVALID_PROMOTION"),
    ({"ends_at": "2026-12-01T00:00:00"}, "VALIDATION_FAILED"),  # no time zone
    ({"loss_leader": True}, "INVALID_PROMOTION"),  # without a budget
    ({"total": None}, "VALIDATION_FAILED"),
    ({"surprise": 1}, "VALIDATION_FAILED"),
])
def test_a_bad_coupon_body_is_refused_and_changes_nothing(api, admin, serum, change, code):
    refused(api, "POST", "/v1/admin/promotions", {**COUPON, **change}, admin, 422, code)


def test_bad_bodies_of_the_other_kinds_are_refused(api, admin, serum, tea):
    gift = {"kind": "full_gift", "title": "赠", "min_spend_fen": 30_000, "gift": {"product_id": "nope", "quantity": 1}}
    assert refused(api, "POST", "/v1/admin/promotions", gift, admin, 422, "INVALID_PROMOTION")["reasons"] == [
        "nope: no listed product has this id"]
    one_unit = {"kind": "bundle", "title": "套", "items": [{"product_id": serum, "quantity": 1}], "price_fen": 100}
    refused(api, "POST", "/v1/admin/promotions", one_unit, admin, 422, "INVALID_PROMOTION")
    refused(api, "POST", "/v1/admin/promotions", {"kind": "member_day", "title": "日", "weekday": 8,
                                                  "discount_bp": 500}, admin, 422, "VALIDATION_FAILED")
    unknown = {**RED_PACKET, "experiment": "nope", "variant_amounts_fen": {"A": 500}}
    refused(api, "POST", "/v1/admin/promotions", unknown, admin, 422, "INVALID_PROMOTION")


@pytest.mark.parametrize("body", [
    {"kind": "member_day", "title": "半价日", "weekday": 2, "discount_bp": 5_000},  # 7,500 < 8,475
    {**COUPON, "amount_fen": 7_000, "min_spend_fen": 0},  # one unit paid 8,000
    {**RED_PACKET, "amount_fen": 7_000, "min_spend_fen": 0},
    {"kind": "full_gift", "title": "满150送精华", "min_spend_fen": 15_000, "gift": {"product_id": "SERUM", "quantity": 1}},
    {"kind": "bundle", "title": "两瓶", "items": [{"product_id": "SERUM", "quantity": 2}], "price_fen": 16_000},
], ids=["member_day", "coupon", "red_packet", "full_gift", "bundle"])
def test_a_promotion_below_cost_plus_commission_is_refused_unless_a_loss_leader(api, admin, serum, body):
    body = _named(body, serum)
    error = refused(api, "POST", "/v1/admin/promotions", body, admin, 422, "PROMOTION_BELOW_COST")
    assert error["product_id"] == serum
    assert error["paid_fen"] < error["needs_fen"]
    made = create(api, admin, {**body, "loss_leader": True, "budget_fen": 50_000})
    assert (made["loss_leader"], made["budget_fen"], made["spent_fen"]) == (True, 50_000, 0)


def test_a_red_packet_whose_largest_variant_sells_below_cost_is_refused(api, admin, serum):
    body = {**RED_PACKET, "min_spend_fen": 0, "experiment": "home_layout", "variant_amounts_fen": {"B": 7_000}}
    refused(api, "POST", "/v1/admin/promotions", body, admin, 422, "PROMOTION_BELOW_COST")


def _named(body: dict[str, Any], product_id: str) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(body).replace('"SERUM"', json.dumps(product_id))))


def test_ending_stops_it_for_buyers_and_is_audited_once(api, admin, serum):
    made = create(api, admin, COUPON)
    buyer = api.login("buyer")[0]
    assert [p["promotion_id"] for p in api.call("GET", "/v1/promotions", None, buyer)[1]["items"]] == [
        made["promotion_id"]]
    status, ended = api.call("POST", f"/v1/admin/promotions/{made['promotion_id']}/end", None, admin)
    assert (status, ended["status"]) == (200, "ended")
    assert api.call("GET", "/v1/promotions", None, buyer)[1]["items"] == []
    refused(api, "POST", f"/v1/admin/promotions/{made['promotion_id']}/end", None, admin, 409, "PROMOTION_ENDED")
    refused(api, "POST", "/v1/admin/promotions/pm-none/end", None, admin, 404, "PROMOTION_NOT_FOUND")
    refused(api, "POST", f"/v1/promotions/{made['promotion_id']}/claim", None, buyer, 409, "PROMOTION_NOT_CLAIMABLE")
    assert audit_actions(api, admin).count("promotion.end") == 1


def test_buyers_see_what_applies_to_a_product_and_its_page_what_is_in_force(api, admin, serum, tea, clock):
    coupon = create(api, admin, COUPON)
    beauty_day = create(api, admin, {"kind": "member_day", "title": "周二美妆日", "weekday": 2, "discount_bp": 1_000,
                                     "categories": ["beauty"]})
    friday = create(api, admin, {"kind": "member_day", "title": "周五", "weekday": 5, "discount_bp": 1_000})
    create(api, admin, RED_PACKET)  # granted, never shown
    later = create(api, admin, {**COUPON, "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-31T00:00:00Z"})
    buyer = api.login("buyer")[0]
    shown = {p["promotion_id"] for p in api.call("GET", f"/v1/promotions?product_id={tea}", None, buyer)[1]["items"]}
    assert shown == {coupon["promotion_id"], friday["promotion_id"]}
    shown = {p["promotion_id"] for p in api.call("GET", "/v1/promotions", None, buyer)[1]["items"]}
    assert later["promotion_id"] not in shown
    page = api.call("GET", f"/v1/products/{serum}", None, buyer)[1]
    assert {p["promotion_id"] for p in page["promotions"]} == {coupon["promotion_id"], beauty_day["promotion_id"]}
    refused(api, "GET", "/v1/promotions?product_id=nope", None, buyer, 404, "PRODUCT_NOT_FOUND")


def test_claims_stop_at_the_per_user_limit_and_the_total(api, admin, serum):
    made = create(api, admin, COUPON)
    path = f"/v1/promotions/{made['promotion_id']}/claim"
    first, second, third = (api.login(name)[0] for name in ("b1", "b2", "b3"))
    status, coupon = api.call("POST", path, None, first)
    assert status == 201, coupon
    assert (coupon["amount_fen"], coupon["min_spend_fen"], coupon["status"]) == (3_000, 10_000, "usable")
    assert coupon["valid_until"].startswith("2026-11-17T04:00:00")
    refused(api, "POST", path, None, first, 409, "COUPON_LIMIT_REACHED")
    assert api.call("POST", path, None, second)[0] == 201
    refused(api, "POST", path, None, third, 409, "COUPON_EXHAUSTED")
    refused(api, "POST", "/v1/promotions/pm-none/claim", None, third, 404, "PROMOTION_NOT_FOUND")
    assert api.call("GET", "/v1/admin/promotions", None, admin)[1]["items"][0]["claimed"] == 2


def test_a_red_packet_cannot_be_claimed(api, admin, serum):
    made = create(api, admin, RED_PACKET)
    buyer = api.login("buyer")[0]
    refused(api, "POST", f"/v1/promotions/{made['promotion_id']}/claim", None, buyer, 409, "PROMOTION_NOT_CLAIMABLE")


def test_my_coupons_by_status(api, admin, serum, clock):
    short = create(api, admin, {**COUPON, "valid_days": 1, "title": "一天"})
    week = create(api, admin, COUPON)
    buyer = api.login("buyer")[0]
    for made in (short, week):
        assert api.call("POST", f"/v1/promotions/{made['promotion_id']}/claim", None, buyer)[0] == 201
    clock.advance(days=2)

    def titles(status: str) -> list[str]:
        code, answer = api.call("GET", f"/v1/me/coupons?status={status}", None, buyer)
        assert code == 200, answer
        return [c["title"] for c in answer["items"]]

    assert (titles("usable"), titles("expired"), titles("used")) == (["满100减30"], ["一天"], [])
    assert api.call("GET", "/v1/me/coupons?status=lost", None, buyer)[0] == 422


def test_a_new_user_gets_each_running_red_packet_once_and_an_old_user_none(api, admin, serum):
    old = api.login("old")[0]
    create(api, admin, RED_PACKET)
    new = api.login("new")[0]
    api.login("new")  # a second login grants nothing more
    mine = api.call("GET", "/v1/me/coupons", None, new)[1]["items"]
    assert [(c["kind"], c["amount_fen"], c["status"]) for c in mine] == [("new_user_coupon", 1_000, "usable")]
    assert api.call("GET", "/v1/me/coupons", None, old)[1]["items"] == []


def test_a_red_packet_amount_is_the_new_users_experiment_variant(api, admin, serum, deps):
    from chalicelib.services.experiments import variant_for

    create(api, admin, {**RED_PACKET, "experiment": "home_layout", "variant_amounts_fen": {"A": 500, "B": 1_500}})
    amounts = {}
    for n in range(8):
        token, user_id = api.login(f"new{n}")
        amounts[variant_for("home_layout", user_id, deps)] = api.call("GET", "/v1/me/coupons", None, token)[1][
            "items"][0]["amount_fen"]
    assert amounts == {"A": 500, "B": 1_500}
    exposures = {r["variant"]: r["exposures"] for r in _experiment(api, admin)}
    assert sum(exposures.values()) == 8


def _experiment(api: Any, admin: str) -> list[dict[str, Any]]:
    status, answer = api.call("GET", "/v1/admin/experiments", None, admin)
    assert status == 200, answer
    return next(e["variants"] for e in answer["experiments"] if e["experiment"] == "home_layout")


def test_buyers_may_not_manage_promotions(api, admin, serum):
    buyer = api.login("buyer")[0]
    before = snapshot()
    assert api.call("POST", "/v1/admin/promotions", COUPON, buyer)[0] == 403
    assert api.call("GET", "/v1/admin/promotions", None, buyer)[0] == 403
    assert snapshot() == before
