"""The one pricing function (domain/pricing.py): each kind, the order of application, stacking,
rounding, and the money properties over random carts and promotions."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import BP, Product, Sku, share_of
from chalicelib.domain.orders import Line, Order, OrderStatus, breakdown, commission_shares, price_lines
from chalicelib.domain.pricing import applicable, limited_units, price, subtotal_fen
from chalicelib.domain.promotions import (
    BundleTerms,
    Coupon,
    CouponNotUsable,
    FullGiftTerms,
    ItemRef,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    PurchaseLimitReached,
)
from chalicelib.domain.refunds import RefundLine, lines_paid_fen, plan_record, with_refund

# Sunday 2026-12-06 16:00 Shanghai: isoweekday 7
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)

SERUM = Product("serum", "精华", "beauty", 5_000, 15_000, 100, 2_000, 500)
NUTS = Product("nuts", "坚果", "food", 2_000, 5_000, 100, 1_600, 500)
MASK = Product("mask", "面膜", "beauty", 1_000, 3_000, 100, 2_000, 500)
TEE = Product("tee", "T恤", "apparel", 2_000, 6_000, None, 1_000, 500,
              skus=(Sku("red", {"颜色": "红"}, 6_000, 2_000, 5), Sku("blue", {"颜色": "蓝"}, 6_500, 2_100, 0)))
PRODUCTS = {p.product_id: p for p in (SERUM, NUTS, MASK, TEE)}


def promo(pid: str, kind: PromotionKind, terms: object, **kw: object) -> Promotion:
    return Promotion(pid, kind, pid, terms, START, END, **kw)  # type: ignore[arg-type]


def coupon(amount: int = 2_000, min_spend: int = 10_000, user: str = "buyer", **kw: object) -> Coupon:
    return Coupon(kw.pop("coupon_id", "c1"), "promo-c", PromotionKind.COUPON, user, "满100减20", amount,  # type: ignore[arg-type]
                  min_spend, NOW - timedelta(days=1), NOW + timedelta(days=6), **kw)  # type: ignore[arg-type]


def lines(*wanted: tuple[str, int] | tuple[str, int, str]) -> list[Line]:
    return price_lines(list(wanted), PRODUCTS)


BUNDLE = promo("b1", PromotionKind.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("mask", 2)), 18_000))
SUNDAY = promo("m1", PromotionKind.MEMBER_DAY, MemberDayTerms(7, 1_000, ("beauty",)))
GIFT = promo("g1", PromotionKind.FULL_GIFT, FullGiftTerms(20_000, ItemRef("mask", 1)))


def test_no_promotion_charges_the_list_price_and_records_nothing():
    priced = price(lines(("serum", 2)), PRODUCTS, [], None, "buyer", NOW)
    assert (priced.items_fen, priced.discount_fen, priced.amount_fen) == (30_000, 0, 30_000)
    assert priced.applied == () and priced.gifts == () and priced.coupon_id is None


def test_a_bundle_prices_each_complete_set_and_spreads_its_saving_by_value():
    # serum 150 + 2 masks 60 = 210 → 180: 30 off per set, 3,000 × 15,000/21,000 = 2,142 and 857 + 1 remainder
    priced = price(lines(("serum", 1), ("mask", 3)), PRODUCTS, [BUNDLE], None, "buyer", NOW)
    assert [line.discount_fen for line in priced.lines] == [2_143, 857]
    assert priced.amount_fen == 18_000 + 3_000  # the third mask at its price
    assert priced.applied[0].promotion_id == "b1" and priced.applied[0].discount_fen == 3_000


def test_a_bundle_needs_every_item_and_never_raises_a_price():
    assert price(lines(("serum", 1), ("mask", 1)), PRODUCTS, [BUNDLE], None, "buyer", NOW).discount_fen == 0
    dear = promo("b2", PromotionKind.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("mask", 2)), 30_000))
    assert price(lines(("serum", 1), ("mask", 2)), PRODUCTS, [dear], None, "buyer", NOW).applied == ()


def test_the_bundle_saving_most_per_set_takes_shared_units_first():
    small = promo("a-small", PromotionKind.BUNDLE, BundleTerms((ItemRef("serum", 1), ItemRef("nuts", 1)), 19_000))
    priced = price(lines(("serum", 1), ("mask", 2), ("nuts", 1)), PRODUCTS, [small, BUNDLE], None, "buyer", NOW)
    assert [a.promotion_id for a in priced.applied] == ["b1"]  # 30 saved beats 10; the serum is taken once


def test_member_day_on_its_weekday_covers_its_categories_and_skips_bundled_units():
    priced = price(lines(("serum", 1), ("mask", 3), ("nuts", 1)), PRODUCTS, [BUNDLE, SUNDAY], None, "buyer", NOW)
    assert [line.discount_fen for line in priced.lines] == [2_143, 857 + 300, 0]  # 10% of the unbundled mask only
    monday = replace(SUNDAY, terms=MemberDayTerms(1, 1_000))
    assert price(lines(("nuts", 1)), PRODUCTS, [monday], None, "buyer", NOW).discount_fen == 0


def test_member_days_never_add_up_the_largest_covering_one_applies():
    all_goods = promo("m2", PromotionKind.MEMBER_DAY, MemberDayTerms(7, 500))
    deeper = promo("m3", PromotionKind.MEMBER_DAY, MemberDayTerms(7, 2_000, ("food",)))
    priced = price(lines(("serum", 1), ("nuts", 1)), PRODUCTS, [SUNDAY, all_goods, deeper], None, "buyer", NOW)
    assert [line.discount_fen for line in priced.lines] == [1_500, 1_000]
    assert {a.promotion_id: a.discount_fen for a in priced.applied} == {"m1": 1_500, "m3": 1_000}


def test_a_coupon_is_spread_in_proportion_floored_with_the_remainder_on_the_largest_line():
    priced = price(lines(("serum", 1), ("nuts", 1), ("mask", 1)), PRODUCTS, [], coupon(1_001, 0), "buyer", NOW)
    # 1,001 over 150/50/30: floors 652, 217, 130 = 999; the 2 fen left go to the serum
    assert [line.discount_fen for line in priced.lines] == [654, 217, 130]
    assert priced.amount_fen == 23_000 - 1_001 and priced.coupon_id == "c1"
    assert priced.applied[-1].coupon_id == "c1" and priced.applied[-1].discount_fen == 1_001


def test_a_coupon_reads_the_subtotal_after_bundle_and_member_day_and_never_goes_below_zero():
    cart = lines(("serum", 1), ("mask", 2))  # 210 at list, 180 as a bundle
    with pytest.raises(CouponNotUsable):
        price(cart, PRODUCTS, [BUNDLE], coupon(2_000, 20_000), "buyer", NOW)
    assert subtotal_fen(cart, PRODUCTS, [BUNDLE], "buyer", NOW) == 18_000
    free = price(lines(("mask", 1)), PRODUCTS, [], coupon(5_000, 0), "buyer", NOW)
    assert free.amount_fen == 0 and free.applied[0].discount_fen == 3_000


@pytest.mark.parametrize("held", [
    coupon(user="someone-else"), coupon(order_id="o-other"),
    replace(coupon(), valid_until=NOW), coupon(min_spend=30_001)])
def test_a_coupon_not_the_callers_used_expired_or_below_its_minimum_is_not_usable(held: Coupon):
    with pytest.raises(CouponNotUsable):
        price(lines(("serum", 2)), PRODUCTS, [], held, "buyer", NOW)


def test_applicable_coupons_are_the_usable_ones_the_subtotal_reaches_largest_first():
    held = [coupon(1_000, 0, coupon_id="a"), coupon(3_000, 20_000, coupon_id="b"), coupon(5_000, 40_000, coupon_id="c"),
            coupon(9_000, 0, coupon_id="d", order_id="o1"), coupon(9_000, 0, "other", coupon_id="e")]
    assert [c.coupon_id for c in applicable(held, 30_000, "buyer", NOW)] == ["b", "a"]


def test_a_full_gift_adds_a_zero_price_line_when_the_amount_after_the_coupon_reaches_it():
    priced = price(lines(("serum", 1), ("nuts", 1)), PRODUCTS, [GIFT], None, "buyer", NOW)
    gift = priced.lines[-1]
    assert (gift.product_id, gift.quantity, gift.paid_fen, gift.gift) == ("mask", 1, 0, True)
    assert priced.amount_fen == priced.items_fen == 20_000
    assert priced.gifts == (gift,) and priced.applied[-1].promotion_id == "g1"
    assert priced.applied[-1].gift_cost_fen == 1_000
    assert commission_shares(list(priced.lines), Upline("l1", "l2"), 1_000)[0].amount_fen == \
        share_of(15_000, 3_000) + share_of(5_000, 2_600)  # the gift earns none
    below = price(lines(("serum", 1), ("nuts", 1)), PRODUCTS, [GIFT], coupon(1, 0), "buyer", NOW)
    assert below.gifts == ()  # 199.99 after the coupon


def test_a_gift_of_a_product_the_order_buys_rides_on_its_line_as_free_units():
    priced = price(lines(("serum", 1), ("mask", 2)), PRODUCTS, [GIFT], None, "buyer", NOW)
    mask = priced.lines[1]
    assert (mask.quantity, mask.free_units, mask.list_fen, mask.paid_fen) == (3, 1, 6_000, 6_000)
    assert len(priced.lines) == 2 and priced.items_fen == 21_000


def test_a_gift_short_of_stock_or_unlisted_is_not_given():
    short = {**PRODUCTS, "mask": replace(MASK, stock=2)}
    assert price(lines(("serum", 1), ("mask", 2)), short, [GIFT], None, "buyer", NOW).gifts == ()
    gone = {**PRODUCTS, "mask": replace(MASK, listed=False)}
    assert price(lines(("serum", 2)), gone, [GIFT], None, "buyer", NOW).gifts == ()
    sku_gift = promo("g2", PromotionKind.FULL_GIFT, FullGiftTerms(1, ItemRef("tee", 1, "blue")))
    assert price(lines(("serum", 1)), PRODUCTS, [sku_gift], None, "buyer", NOW).gifts == ()  # blue: 0 left


def test_promotions_not_in_force_apply_nothing():
    later = replace(BUNDLE, starts_at=NOW + timedelta(seconds=1))
    ended = replace(GIFT, ended_at=NOW)
    priced = price(lines(("serum", 1), ("mask", 2)), PRODUCTS, [later, ended], None, "buyer", NOW)
    assert priced.applied == () and priced.amount_fen == 21_000


def test_a_discounted_line_refunds_what_it_was_paid_unit_by_unit():
    priced = price(lines(("serum", 3)), PRODUCTS, [], coupon(1_000, 0), "buyer", NOW)  # 45,000 − 1,000 over 3
    order = Order("o1", "buyer", OrderStatus.SHIPPED, list(priced.lines), priced.amount_fen, NOW, NOW)
    assert [lines_paid_fen(order, [RefundLine("serum", n)]) for n in (1, 2, 3)] == [14_666, 29_333, 44_000]
    for no in ("r1", "r2", "r3"):
        order = with_refund(order, plan_record(order, no, [RefundLine("serum", 1)],
                                               lines_paid_fen(order, [RefundLine("serum", 1)]), [], NOW))
    assert order.refunded_fen == 44_000 == priced.amount_fen


def test_limited_units_count_every_sku_of_a_product_and_never_gift_units():
    tee = replace(TEE, limit_per_user=3, skus=(TEE.skus[0], replace(TEE.skus[1], stock=5)))
    limited = {**PRODUCTS, "tee": tee, "mask": replace(MASK, limit_per_user=1)}
    wanted = [("tee", 1, "red"), ("tee", 2, "blue"), ("serum", 1)]
    cart = price(price_lines(wanted, limited), limited, [], None, "buyer", NOW).lines
    assert limited_units(cart, limited) == {"tee": (3, 3)}
    gifted = price(lines(("serum", 2)), limited, [GIFT], None, "buyer", NOW).lines  # the free mask
    assert limited_units(gifted, limited) == {}
    with pytest.raises(PurchaseLimitReached):
        limited_units(price_lines([("tee", 2, "red"), ("tee", 2, "blue")], limited), limited)


def test_a_lines_payment_spreads_over_its_units_floored_cumulatively():
    line = replace(lines(("serum", 3))[0], discount_fen=1_000)  # 44,000 over 3 units
    assert [line.paid_between(0, n) for n in (1, 2, 3)] == [14_666, 29_333, 44_000]
    assert line.paid_between(1, 3) == 29_334 and line.paid_between(2, 2) == 0


# --- the properties -----------------------------------------------------------------------------------

CATEGORIES = ("beauty", "food", "apparel")


@st.composite
def catalogue(draw: st.DrawFn) -> dict[str, Product]:
    products = {}
    for n in range(draw(st.integers(2, 5))):
        price_fen = draw(st.integers(1, 50_000))
        products[f"p{n}"] = Product(f"p{n}", f"品{n}", draw(st.sampled_from(CATEGORIES)),
                                    draw(st.integers(0, price_fen // 2)), price_fen, draw(st.none() | st.integers(0, 50)),
                                    draw(st.integers(0, 2_500)), draw(st.integers(0, 1_000)))
    return products


@st.composite
def scenario(draw: st.DrawFn) -> tuple[dict[str, Product], list[Line], list[Promotion], Coupon | None]:
    products = draw(catalogue())
    ids = sorted(products)
    chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True))
    cart = price_lines([(p, draw(st.integers(1, 6))) for p in chosen], {p: replace(products[p], stock=None) for p in ids})
    item = st.builds(ItemRef, st.sampled_from(ids), st.integers(1, 3))
    promotions: list[Promotion] = []
    for n in range(draw(st.integers(0, 3))):
        items = draw(st.lists(item, min_size=1, max_size=3, unique_by=lambda i: i.product_id))
        promotions.append(promo(f"b{n}", PromotionKind.BUNDLE, BundleTerms(tuple(items), draw(st.integers(1, 60_000)))))
    for n in range(draw(st.integers(0, 2))):
        cats = tuple(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True)))
        promotions.append(promo(f"m{n}", PromotionKind.MEMBER_DAY,
                                MemberDayTerms(draw(st.integers(6, 7)), draw(st.integers(1, BP - 1)), cats)))
    for n in range(draw(st.integers(0, 2))):
        promotions.append(promo(f"g{n}", PromotionKind.FULL_GIFT, FullGiftTerms(draw(st.integers(1, 100_000)), draw(item))))
    held = draw(st.none() | st.builds(lambda a, m: coupon(a, m), st.integers(1, 50_000), st.integers(0, 20_000)))
    return products, cart, promotions, held


def _priced(case: tuple[dict[str, Product], list[Line], list[Promotion], Coupon | None]):  # type: ignore[no-untyped-def]
    products, cart, promotions, held = case
    try:
        return price(cart, products, promotions, held, "buyer", NOW)
    except CouponNotUsable:
        assert held is not None and subtotal_fen(cart, products, promotions, "buyer", NOW) < held.min_spend_fen
        return price(cart, products, promotions, None, "buyer", NOW)


@settings(max_examples=150, deadline=None)
@given(scenario(), st.integers(0, 1_000))
def test_lines_add_up_to_the_amount_none_below_zero_and_commission_within_each_lines_share(case, uplift):  # type: ignore[no-untyped-def]
    priced = _priced(case)
    assert sum(line.paid_fen for line in priced.lines) == priced.amount_fen
    assert priced.amount_fen == priced.items_fen - priced.discount_fen
    assert all(0 <= line.paid_fen <= line.list_fen and line.discount_fen >= 0 for line in priced.lines)
    assert sum(a.discount_fen for a in priced.applied) == priced.discount_fen
    lines_ = list(priced.lines)
    shares = commission_shares(lines_, Upline("l1", "l2"), uplift)
    per_line = [share_of(line.paid_fen, line.level1_rate_bp + uplift) + share_of(line.paid_fen, line.level2_rate_bp)
                for line in lines_]
    assert all(line.paid_fen * (line.level1_rate_bp + uplift + line.level2_rate_bp) >= own * BP
               for line, own in zip(lines_, per_line, strict=True))
    assert sum(s.amount_fen for s in shares) == sum(per_line)
    money = breakdown(lines_, shares)
    profit = sum(line.paid_fen - line.cost_fen for line in lines_) - sum(per_line)
    assert money.paid_fen == money.cost_fen + money.commission_fen + money.platform_profit_fen
    assert money.platform_profit_fen == profit and money.paid_fen == priced.amount_fen


@settings(max_examples=60, deadline=None)
@given(scenario(), st.data())
def test_refunding_every_unit_in_any_order_gives_back_exactly_the_amount(case, data):  # type: ignore[no-untyped-def]
    priced = _priced(case)
    order = Order("o1", "buyer", OrderStatus.SHIPPED, list(priced.lines), priced.amount_fen, NOW, NOW)
    left = {(line.product_id, line.sku_id): line.quantity for line in order.lines}
    for n in range(50):
        if not left:
            break
        key = data.draw(st.sampled_from(sorted(left, key=str)))
        units = data.draw(st.integers(1, left[key]))
        wanted = [RefundLine(key[0], units, key[1])]
        order = with_refund(order, plan_record(order, f"r{n}", wanted, lines_paid_fen(order, wanted), [], NOW))
        left[key] -= units
        left = {k: v for k, v in left.items() if v}
    assert order.refunded_fen == priced.amount_fen

