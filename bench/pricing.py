"""DynamoDB calls of a quote and of a checkout with a coupon and a gift (docs/promotions.md
"Quote = charge"), measured like ``bench/api.py``'s requests, each next to its minimum.
``make bench`` runs them with the other request scenarios; ``python -m bench.pricing`` runs only
these against a fresh DynamoDB Local.

Setup (once, through the app): a full gift "from 1,000.00, a face mask free" (the demo's air
purifier at 1,500.00 reaches it; the other scenarios' 50.00 masks do not, so their figures are
unchanged) and a coupon promotion each buyer claims: "1,000.00 − 50.00".
"""
from __future__ import annotations

from typing import Any

from bench.api import Api, Minimum, Request, Tree, run_alone

CART = [{"product_id": "p-appliance-purifier", "quantity": 1}]
ADDRESS = {"name": "bench", "phone": "13800000000", "detail": "bench"}

MIN_QUOTE = Minimum({"BatchGetItem": 1, "Query": 1},
                    "the buyer, the cart's products, the possible gifts' products and the coupon named in one batch "
                    "across tables (the running promotions are the process's cached list), then the caller's "
                    "coupons (by_owner, one Query) for applicable_coupons")
MIN_CHECKOUT = Minimum({"BatchGetItem": 1, "TransactWriteItems": 1},
                       "the same batch with the Idempotency-Key claim, then order + key claim + the line's and the "
                       "gift's stock + the coupon's use in one transaction")

_promotions: dict[str, str] = {}


def _setup(api: Api) -> str:
    """The two promotions, created once; the coupon promotion's id."""
    if not _promotions:
        admin = api.login("admin")
        api.call("POST", "/v1/admin/promotions", admin, {
            "kind": "full_gift", "title": "满1000赠面膜", "min_spend_fen": 100_000,
            "gift": {"product_id": "p-mask", "quantity": 1}}, expect=201)
        coupon = api.call("POST", "/v1/admin/promotions", admin, {
            "kind": "coupon", "title": "满1000减50", "amount_fen": 5_000, "min_spend_fen": 100_000, "valid_days": 7,
            "total": 1_000, "per_user": 1}, expect=201)
        _promotions["coupon"] = coupon["promotion_id"]
    return _promotions["coupon"]


def _buyer(api: Api, tree: Tree, who: str) -> tuple[str, str]:
    token = api.login(who)
    api.bind(token, tree.code_b)
    coupon = api.call("POST", f"/v1/promotions/{_setup(api)}/claim", token, expect=201)
    return token, str(coupon["coupon_id"])


def _check(answer: Any) -> Any:
    pricing = answer["pricing"]
    if pricing["discount_fen"] != 5_000 or not pricing["gifts"]:
        raise AssertionError(f"the coupon or the gift did not apply: {pricing}")
    return answer


def _quote(api: Api, tree: Tree, i: int) -> Request:
    token, coupon_id = _buyer(api, tree, f"quote-{i}")
    body = {"items": CART, "address": ADDRESS, "coupon_id": coupon_id}
    return lambda: _check(api.call("POST", "/v1/orders/quote", token, body))


def _checkout(api: Api, tree: Tree, i: int) -> Request:
    token, coupon_id = _buyer(api, tree, f"promo-checkout-{i}")
    body = {"items": CART, "address": ADDRESS, "coupon_id": coupon_id}
    return lambda: _check(api.keyed(token, "/v1/orders", body, f"bench-promo-checkout-{i}"))


SCENARIOS: list[tuple[str, str, Any, Minimum]] = [
    ("quote_coupon_gift", "quote: one line, a coupon and a gift", _quote, MIN_QUOTE),
    ("checkout_coupon_gift", "checkout: one line, a coupon and a gift", _checkout, MIN_CHECKOUT),
]


def main() -> int:
    """Only these scenarios, against a fresh DynamoDB Local (as ``make bench``'s request part)."""
    return run_alone(SCENARIOS)


if __name__ == "__main__":
    raise SystemExit(main())
