"""The promotion types (domain/promotions.py): validation, when each runs, the coupon's status."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.promotions import (
    Applied,
    BundleTerms,
    Coupon,
    CouponStatus,
    CouponTerms,
    FullGiftTerms,
    InvalidPromotion,
    ItemRef,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    check,
    valid_until,
)

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)  # a Sunday in Shanghai (16:00)
K = PromotionKind


def promo(kind: PromotionKind, terms: object, **kw: object) -> Promotion:
    fields: dict[str, object] = {"starts_at": NOW, "ends_at": NOW + timedelta(days=7), **kw}
    return Promotion("p1", kind, "双十二", terms, **fields)  # type: ignore[arg-type]


VALID = [
    promo(K.NEW_USER_COUPON, CouponTerms(1_000, 0, 7)),
    promo(K.NEW_USER_COUPON, CouponTerms(1_000, 0, 7, experiment="red_packet", variant_amounts_fen={"big": 2_000})),
    promo(K.COUPON, CouponTerms(2_000, 10_000, 30, total=100, per_user=1)),
    promo(K.FULL_GIFT, FullGiftTerms(19_900, ItemRef("mask", 1))),
    promo(K.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("mask", 2, "s1")), 18_000)),
    promo(K.BUNDLE, BundleTerms((ItemRef("nuts", 2),), 9_000)),
    promo(K.MEMBER_DAY, MemberDayTerms(3, 1_000, ("food",))),
    promo(K.MEMBER_DAY, MemberDayTerms(7, 500), loss_leader=True, budget_fen=100_000),
]


@pytest.mark.parametrize("promotion", VALID, ids=lambda p: p.kind.value)
def test_well_formed_promotions_of_each_kind_pass(promotion: Promotion):
    check(promotion)


@pytest.mark.parametrize(("promotion", "reason"), [
    (promo(K.COUPON, CouponTerms(0, 0, 7, total=1, per_user=1)), "amount_fen"),
    (promo(K.COUPON, CouponTerms(100, 0, 0, total=1, per_user=1)), "valid_days"),
    (promo(K.COUPON, CouponTerms(100, 0, 7)), "total"),
    (promo(K.COUPON, CouponTerms(100, 0, 7, total=2, per_user=3)), "per_user"),
    (promo(K.COUPON, CouponTerms(100, 0, 7, total=2, per_user=1, experiment="x", variant_amounts_fen={"a": 1})),
     "experiment"),
    (promo(K.NEW_USER_COUPON, CouponTerms(100, 0, 7, total=5)), "granted once"),
    (promo(K.NEW_USER_COUPON, CouponTerms(100, 0, 7, experiment="x")), "go together"),
    (promo(K.NEW_USER_COUPON, CouponTerms(100, 0, 7, experiment="x", variant_amounts_fen={"a": 0})), "each at least"),
    (promo(K.FULL_GIFT, FullGiftTerms(0, ItemRef("mask", 1))), "min_spend_fen"),
    (promo(K.FULL_GIFT, FullGiftTerms(100, ItemRef("mask", 0))), "quantity"),
    (promo(K.BUNDLE, BundleTerms((ItemRef("serum", 1),), 100)), "2 units"),
    (promo(K.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("serum", 1)), 100)), "once"),
    (promo(K.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("mask", 1)), 0)), "price_fen"),
    (promo(K.MEMBER_DAY, MemberDayTerms(8, 1_000)), "weekday"),
    (promo(K.MEMBER_DAY, MemberDayTerms(1, 10_000)), "discount_bp"),
    (promo(K.MEMBER_DAY, MemberDayTerms(1, 100, ("food", "food"))), "categories"),
    (promo(K.MEMBER_DAY, MemberDayTerms(1, 100), ends_at=NOW), "before ends_at"),
    (promo(K.MEMBER_DAY, MemberDayTerms(1, 100), loss_leader=True), "budget"),
    (promo(K.MEMBER_DAY, FullGiftTerms(1, ItemRef("mask", 1))), "MemberDayTerms"),
    (replace(VALID[0], title=" "), "title"),
])
def test_each_broken_rule_is_refused_with_its_reason(promotion: Promotion, reason: str):
    with pytest.raises(InvalidPromotion) as refused:
        check(promotion)
    assert any(reason in r for r in refused.value.details["reasons"])


def test_a_promotion_runs_from_its_start_to_its_end_or_until_ended():
    p = promo(K.COUPON, CouponTerms(100, 0, 7, total=1, per_user=1))
    assert not p.running(NOW - timedelta(microseconds=1)) and p.running(NOW)
    assert not p.running(p.ends_at)
    ended = replace(p, ended_at=NOW + timedelta(hours=1))
    assert ended.running(NOW) and not ended.running(NOW + timedelta(hours=1))


def test_a_member_day_is_in_force_on_its_shanghai_weekday_only():
    sunday = promo(K.MEMBER_DAY, MemberDayTerms(7, 1_000))
    assert sunday.in_force(NOW)  # 16:00 Sunday in Shanghai
    assert not sunday.in_force(NOW + timedelta(hours=8))  # 00:00 Monday in Shanghai, still Sunday in UTC


def test_product_ids_are_those_a_bundle_or_gift_names():
    assert VALID[4].product_ids() == {"serum", "mask"} and VALID[3].product_ids() == {"mask"}
    assert VALID[2].product_ids() == frozenset()


def test_a_coupon_is_usable_by_its_holder_until_used_or_expired():
    held = Coupon("c1", "p1", K.COUPON, "u1", "t", 100, 0, NOW, valid_until(NOW, 7))
    assert held.usable_by("u1", NOW) and not held.usable_by("u2", NOW)
    assert held.status(NOW + timedelta(days=7)) is CouponStatus.EXPIRED
    assert replace(held, order_id="o1").status(NOW) is CouponStatus.USED


def test_a_red_packet_variant_gets_its_amount_and_an_unlisted_one_the_default():
    terms = VALID[1].terms
    assert isinstance(terms, CouponTerms)
    assert (terms.amount_for("big"), terms.amount_for("control"), terms.amount_for(None)) == (2_000, 1_000, 1_000)


def test_what_a_promotion_spent_is_its_discount_and_its_gifts_cost():
    assert Applied("p1", K.FULL_GIFT, gift_cost_fen=1_000).spent_fen == 1_000
    assert Applied("p1", K.COUPON, discount_fen=500, coupon_id="c").spent_fen == 500
