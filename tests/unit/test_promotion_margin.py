"""The margin guard of promotions (domain/promotion_margin.py): each kind's worst case against
cost plus the largest payout, per SKU; a loss leader passes; a bundle is judged as a whole."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.catalog import Product, Sku
from chalicelib.domain.orders import largest_payout_fen
from chalicelib.domain.promotion_margin import Payouts, PromotionBelowCost, check, worst_case
from chalicelib.domain.promotions import (
    BundleTerms,
    CouponTerms,
    FullGiftTerms,
    ItemRef,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    Terms,
)

AT = datetime(2026, 11, 10, tzinfo=UTC)
PAY = Payouts(top_uplift_bp=1_000, team_bonus_bp=300)
# 41% of what a unit is paid at most: paid ≥ 8,475 keeps the serum's 5,000 cost
SERUM = Product("serum", "精华", "beauty", 5_000, 15_000, 10, 2_000, 500)
TEA = Product("tea", "茶", "food", 2_000, 8_000, 10, 1_600, 500)
SHIRT = Product("shirt", "衬衫", "apparel", 3_000, 10_000, 10, 1_000, 500,
                skus=(Sku("s-m", {"尺码": "M"}, 10_000, 3_000), Sku("s-l", {"尺码": "L"}, 12_000, 9_000)))


def promotion(kind: PromotionKind, terms: Terms, loss_leader: bool = False) -> Promotion:
    return Promotion("pm1", kind, "促销", terms, AT, AT.replace(month=12), loss_leader=loss_leader,
                     budget_fen=1_000 if loss_leader else None)


@pytest.mark.parametrize(("discount_bp", "refused"), [(4_000, False), (4_350, False), (4_360, True), (5_000, True)])
def test_a_member_day_is_refused_once_a_unit_is_paid_below_cost_plus_the_largest_payout(discount_bp, refused):
    found = worst_case(promotion(PromotionKind.MEMBER_DAY, MemberDayTerms(2, discount_bp)), [SERUM], None, PAY)
    assert (found is not None) is refused


def test_a_member_day_only_weighs_the_categories_it_covers():
    deep = MemberDayTerms(2, 7_000, ("food",))
    assert worst_case(promotion(PromotionKind.MEMBER_DAY, deep), [SERUM], None, PAY) is None
    assert worst_case(promotion(PromotionKind.MEMBER_DAY, deep), [SERUM, TEA], None, PAY).product_id == "tea"


def test_the_guard_is_per_sku_and_names_the_sku():
    found = worst_case(promotion(PromotionKind.MEMBER_DAY, MemberDayTerms(2, 1_000)), [SHIRT], None, PAY)
    assert (found.product_id, found.sku_id) == ("shirt", "s-l")  # 10,800 paid < 9,000 + 4,428


def test_a_coupon_is_weighed_in_the_smallest_order_that_may_use_it():
    # 70.00 off an order of at least 300.00: a serum's share is 35.00, paid 115.00: fine
    assert worst_case(promotion(PromotionKind.COUPON, CouponTerms(7_000, 30_000, 7, 10, 1)), [SERUM], None, PAY) is None
    # without a minimum, one serum alone takes the 70.00: paid 80.00
    found = worst_case(promotion(PromotionKind.COUPON, CouponTerms(7_000, 0, 7, 10, 1)), [SERUM], None, PAY)
    assert (found.paid_fen, found.needs_fen) == (8_000, 5_000 + largest_payout_fen(8_000, 2_000, 500, 1_000, 300))


def test_a_red_packet_is_weighed_at_its_largest_variant():
    terms = CouponTerms(1_000, 0, 3, experiment="red_packet", variant_amounts_fen={"A": 1_000, "B": 7_000})
    assert worst_case(promotion(PromotionKind.NEW_USER_COUPON, terms), [SERUM], None, PAY) is not None


def test_a_full_gift_must_leave_the_gifts_cost_after_payouts():
    gift = ItemRef("tea", 1)
    # an order of 2 serums (300.00) keeps 300 − 100 − 123 = 77.00 ≥ the tea's 20.00
    assert worst_case(promotion(PromotionKind.FULL_GIFT, FullGiftTerms(20_000, gift)), [SERUM], TEA, PAY) is None
    # one serum (150.00) keeps 150 − 50 − 61.5 = 38.50: two teas (40.00) are too many
    two = ItemRef("tea", 2)
    assert worst_case(promotion(PromotionKind.FULL_GIFT, FullGiftTerms(15_000, two)), [SERUM], TEA, PAY) is not None


def test_a_bundle_is_judged_as_a_whole_set():
    items = (ItemRef("serum", 1), ItemRef("tea", 1))
    assert worst_case(promotion(PromotionKind.BUNDLE, BundleTerms(items, 20_000)), [SERUM, TEA], None, PAY) is None
    found = worst_case(promotion(PromotionKind.BUNDLE, BundleTerms(items, 10_000)), [SERUM, TEA], None, PAY)
    assert found is not None and found.paid_fen == 10_000


def test_a_loss_leader_passes_and_anything_else_below_cost_is_refused():
    half = MemberDayTerms(2, 5_000)
    check(promotion(PromotionKind.MEMBER_DAY, half, loss_leader=True), [SERUM], None, PAY)
    with pytest.raises(PromotionBelowCost) as refused:
        check(promotion(PromotionKind.MEMBER_DAY, half), [SERUM], None, PAY)
    assert refused.value.details["product_id"] == "serum"


@settings(max_examples=200, deadline=None)
@given(price=st.integers(100, 1_000_000), cost_share=st.integers(0, 9_000), rate1=st.integers(0, 3_000),
       rate2=st.integers(0, 1_000), discount_bp=st.integers(1, 9_999))
def test_a_member_day_the_guard_accepts_never_pays_a_unit_below_its_cost_and_payout(price, cost_share, rate1, rate2,
                                                                                     discount_bp):
    product = Product("p", "p", "c", price * cost_share // 10_000, price, 1, rate1, rate2)
    if worst_case(promotion(PromotionKind.MEMBER_DAY, MemberDayTerms(1, discount_bp)), [product], None, PAY) is None:
        paid = price - price * discount_bp // 10_000
        assert paid - product.cost_fen - largest_payout_fen(paid, rate1, rate2, 1_000, 300) >= 0
