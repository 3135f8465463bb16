from __future__ import annotations

import pytest


def test_bind_answers_parent_and_grandparent(api):
    _, alice, alice_code = api.distributor("alice")
    bob_token, bob, bob_code = api.distributor("bob")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": alice_code}, bob_token) == \
        (200, {"parent_id": alice, "grandparent_id": None, "product_id": None})
    carol_token, _ = api.login("carol")
    assert api.call("POST", "/v1/referrals/bind", {"invite_code": bob_code.lower()}, carol_token) == \
        (200, {"parent_id": bob, "grandparent_id": alice, "product_id": None})


@pytest.mark.parametrize(("case", "status", "code"), [
    ("unknown", 404, "INVITE_CODE_NOT_FOUND"),
    ("self", 422, "SELF_REFERRAL"),
    ("already", 409, "ALREADY_BOUND"),
    ("paid", 409, "NOT_A_NEW_USER"),
    ("cycle", 422, "REFERRAL_CYCLE"),
])
def test_refused_bindings_have_their_contract_codes_and_change_nothing(api, deps, case, status, code):
    alice_token, alice, alice_code = api.distributor("alice")
    bob_token, bob, bob_code = api.distributor("bob")
    token, invite = {
        "unknown": (bob_token, "QQQQ2222"),
        "self": (alice_token, alice_code),
        "already": (bob_token, alice_code),
        "paid": (bob_token, alice_code),
        "cycle": (alice_token, bob_code),
    }[case]
    if case in ("already", "cycle"):
        api.call("POST", "/v1/referrals/bind", {"invite_code": alice_code}, bob_token)
        _, _dave, dave_code = api.distributor("dave")
        if case == "already":
            invite = dave_code
    if case == "paid":
        deps.users.record_paid_order(bob, 100)
    before = {u: deps.users.get(u) for u in (alice, bob)}
    got, body = api.call("POST", "/v1/referrals/bind", {"invite_code": invite}, token)
    assert (got, body["error"]["code"]) == (status, code)
    assert {u: deps.users.get(u) for u in (alice, bob)} == before


def test_team_view_matches_the_contract_and_paginates(api):
    alice_token, _alice, code = api.distributor("alice")
    for name in ("b", "c", "d"):
        token, _ = api.login(name)
        api.call("POST", "/v1/referrals/bind", {"invite_code": code}, token)
    status, page = api.call("GET", "/v1/me/team?limit=2", token=alice_token)
    assert status == 200 and page["direct_count"] == 3 and page["team_count"] == 3 and len(page["direct"]) == 2
    assert page["next_tier"] == {"tier": "senior", "needs": {"direct_count": 7, "month_sales_fen": 500000}}
    assert set(page["direct"][0]) == {"user_id", "nickname", "bound_at", "month_sales_fen", "direct_count",
                                      "month_spent_fen", "parent_id"}  # v1.1: what each bought; level 2: under whom
    rest = api.call("GET", f"/v1/me/team?limit=2&next={page['next']}", token=alice_token)[1]
    assert len(rest["direct"]) == 1 and rest["next"] is None


@pytest.mark.parametrize(("query", "code"), [
    ("limit=0", "VALIDATION_FAILED"), ("limit=101", "VALIDATION_FAILED"), ("limit=abc", "VALIDATION_FAILED"),
    ("next=%%%", "INVALID_CURSOR"), ("next=eyJhIjoxfQ", "INVALID_CURSOR"), ("other=1", "VALIDATION_FAILED"),
])
def test_bad_team_queries_are_4xx(api, query, code):
    token, _, _ = api.distributor("alice")
    status, body = api.call("GET", f"/v1/me/team?{query}", token=token)
    assert 400 <= status < 500 and body["error"]["code"] == code


def test_products_show_the_callers_commission_and_filter_by_category(api, deps):
    from chalicelib.services.demo import seed_demo

    seed_demo(deps)
    token, _ = api.login("alice")
    status, body = api.call("GET", "/v1/products?category=beauty", token=token)
    assert status == 200 and {p["category"] for p in body["items"]} == {"beauty"}
    serum = next(p for p in body["items"] if p["product_id"] == "p-beauty-serum")
    assert serum["commission_preview_fen"] == 3_000 and serum["group_price_fen"] is None
    everything = api.call("GET", "/v1/products?limit=100", token=token)[1]["items"]
    assert len(everything) == 6
    nuts = next(p for p in everything if p["product_id"] == "p-food-nuts")
    assert nuts["group_price_fen"] == 3_500
