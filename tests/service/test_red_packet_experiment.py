"""The red packet's amount as an experiment (docs/promotions.md "Measuring the levers"): the
operator configures ``red_packet`` in the rules and names it on the ``new_user_coupon``; each new
user's first login assigns a variant and grants its amount (promo-core); a payment converts
(services/experiments.py); the admin metrics compare the variants with the z-test, and the
promotion's own figures count the packets redeemed."""
from __future__ import annotations

import uuid

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.promotions import CouponTerms, PromotionKind
from chalicelib.services import experiments, metrics, orders, payments, promotions
from tests.service.test_orders import ADDRESS, login

AMOUNTS = {"A": 500, "B": 1_500}


def configure(deps: Deps) -> str:
    rules = Rules.model_validate({"experiments": {"red_packet": {"variants": {"A": 50, "B": 50},
                                                                 "min_detectable_effect_bp": 700}}})
    deps.settings = deps.settings.model_copy(update={"rules": rules})
    deps.products.put_if_absent(Product("p-mask", "面膜", "beauty", 1_500, 5_000, 1_000, 2_000, 500), deps.clock())
    terms = CouponTerms(amount_fen=500, min_spend_fen=0, valid_days=7, experiment="red_packet",
                        variant_amounts_fen=AMOUNTS)
    draft = promotions.draft(PromotionKind.NEW_USER_COUPON, "新人红包", terms, None, None, False, None, "admin", deps)
    return promotions.create(draft, "admin", deps).promotion_id


def pay_with_packet(deps: Deps, user_id: str, coupon_id: str) -> None:
    body = {"items": [{"product_id": "p-mask", "quantity": 1}], "address": ADDRESS, "coupon_id": coupon_id}
    order = orders.place_order(user_id, [("p-mask", 1)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"


def test_the_variants_amounts_are_granted_and_their_conversions_compared_by_the_z_test(deps):
    promotion_id = configure(deps)
    users = [login(deps, f"new{i}") for i in range(60)]
    variant = {u: deps.experiments.exposure(u, "red_packet").variant for u in users}
    held = {u: deps.promotions.usable_coupons(u, deps.clock()) for u in users}
    assert all([c.amount_fen for c in held[u]] == [AMOUNTS[variant[u]]] for u in users)
    # every B user pays with the packet, one A user in three
    payers = [u for u in users if variant[u] == "B"] + [u for u in users if variant[u] == "A"][::3]
    for user in payers:
        pay_with_packet(deps, user, held[user][0].coupon_id)

    [report] = [r for r in experiments.reports(deps) if r.experiment == "red_packet"]
    by_variant = {v.variant: v for v in report.variants}
    exposed = {name: sum(1 for u in users if variant[u] == name) for name in AMOUNTS}
    converted = {name: sum(1 for u in payers if variant[u] == name) for name in AMOUNTS}
    assert {n: (v.exposures, v.conversions) for n, v in by_variant.items()} == {
        n: (exposed[n], converted[n]) for n in AMOUNTS}
    assert report.control == "A" and by_variant["A"].p_value is None
    assert by_variant["B"].p_value is not None and by_variant["B"].p_value < 0.05

    [row] = metrics.metrics_rows(business_date(deps.clock()), business_date(deps.clock()), deps)
    [packet] = row["promotions"]
    assert (packet["promotion_id"], packet["kind"], packet["redemptions"]) == (promotion_id, "new_user_coupon",
                                                                              len(payers))
    assert packet["discount_fen"] == sum(AMOUNTS[variant[u]] for u in payers)
