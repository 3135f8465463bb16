"""Measuring the levers, by hand: what a paid or refunded order adds per promotion it took, and a
promotion's day beside the day's other orders (redemptions, GMV, AOV with and without it)."""
from __future__ import annotations

from chalicelib.domain.promotion_metrics import by_redemptions, paid_counts, promotion_figures, refund_counts, taken
from chalicelib.domain.promotions import Applied, PromotionKind

BUNDLE = Applied("pb", PromotionKind.BUNDLE, discount_fen=2_000)
COUPON = Applied("pc", PromotionKind.COUPON, discount_fen=1_000, coupon_id="c1")
GIFT = Applied("pg", PromotionKind.FULL_GIFT, gift_cost_fen=1_500)


def test_a_paid_order_counts_once_for_each_promotion_it_took_and_once_as_promoted():
    per, day = paid_counts([BUNDLE, COUPON, GIFT], 12_000)
    assert per == {"pb": {"orders": 1, "paid_fen": 12_000, "promotion_discount_fen": 2_000},
                   "pc": {"orders": 1, "paid_fen": 12_000, "promotion_discount_fen": 1_000},
                   "pg": {"orders": 1, "paid_fen": 12_000, "promotion_discount_fen": 1_500}}
    assert day == {"promoted_orders": 1, "promoted_paid_fen": 12_000, "promotion_discount_fen": 4_500}


def test_an_order_without_promotions_counts_nothing_here():
    assert paid_counts([], 8_000) == ({}, {})


def test_a_promotion_named_twice_counts_one_order_with_both_gifts():
    assert taken([GIFT, GIFT]) == {"pg": ("full_gift", 3_000)}
    assert paid_counts([GIFT, GIFT], 9_000)[0]["pg"]["orders"] == 1


def test_a_refund_counts_its_amount_for_each_promotion_and_a_refund_only_when_whole():
    assert refund_counts([BUNDLE, COUPON], 3_000, whole=False) == {
        "pb": ("bundle", {"refunded_fen": 3_000, "refunds": 0}), "pc": ("coupon", {"refunded_fen": 3_000, "refunds": 0})}
    assert refund_counts([GIFT], 9_000, whole=True) == {"pg": ("full_gift", {"refunded_fen": 9_000, "refunds": 1})}


def test_a_promotions_day_beside_the_days_other_orders():
    # the day: 10 orders paid 100,000 fen; 4 took the bundle, paying 60,000; one of them refunded whole (15,000)
    counts = {"orders": 4, "paid_fen": 60_000, "promotion_discount_fen": 8_000, "refunds": 1, "refunded_fen": 15_000}
    figures = promotion_figures("pb", counts, 10, 100_000, {"title": "套餐", "kind": "bundle"})
    assert figures == {"promotion_id": "pb", "title": "套餐", "kind": "bundle", "redemptions": 3, "orders": 4,
                       "gmv_fen": 45_000, "discount_fen": 8_000, "avg_order_value_fen": 15_000,
                       "avg_order_value_without_fen": 6_666}


def test_a_promotion_every_order_took_has_no_other_orders_to_compare():
    figures = promotion_figures("pm", {"orders": 3, "paid_fen": 30_001}, 3, 30_001, {})
    assert (figures["avg_order_value_fen"], figures["avg_order_value_without_fen"]) == (10_000, 0)


def test_a_day_of_refunds_only_has_negative_redemptions_and_gmv():
    figures = promotion_figures("pc", {"refunds": 1, "refunded_fen": 5_000}, 2, 9_000, {})
    assert (figures["redemptions"], figures["gmv_fen"], figures["avg_order_value_fen"]) == (-1, -5_000, 0)


def test_most_redeemed_first():
    rows = [{"promotion_id": "a", "redemptions": 1, "gmv_fen": 5}, {"promotion_id": "b", "redemptions": 3, "gmv_fen": 1},
            {"promotion_id": "c", "redemptions": 1, "gmv_fen": 9}]
    assert [r["promotion_id"] for r in by_redemptions(rows)] == ["b", "c", "a"]
