"""The one pricing function (DOMAIN.md §9; docs/promotions.md "Pricing"): an order's lines at
their list prices, the promotions in force and the caller's coupon → what each line is paid, the
gifts, and what each promotion gave. Quote and checkout both call ``price``; commission, refunds
and the metrics read its result (``Line.paid_fen``, ``Order.promotions``).

The order of application is fixed:

1. **bundles** (套餐): each complete set of a bundle's items in the cart costs the bundle's price;
   the bundle saving the most per set first (ties: the smaller promotion id), each unit in one
   bundle at most; a set's saving spread over its lines in proportion to their value;
2. **member day** (会员日): on the units no bundle took, the largest discount of the member days in
   force that cover the line's category (they never add up);
3. **coupon**: one per order, when the items after 1–2 reach its minimum spend; its amount (at
   most that subtotal) spread over the lines in proportion to what they pay after 1–2;
4. **full gifts** (满赠): every full gift whose minimum the amount to pay after 1–3 reaches adds
   its gift once, free (a zero-price line, or free units on the line of the same product or SKU),
   unless the gift is not sold now or its stock as read is short (then not given).

Every spread is ``refunds.spread``: floored, the remainder on the largest line, no line taking
more than its value, so no line is ever paid below 0 and the lines add up to the amount.
Group-buy orders take no promotion: the group price is their promotion (docs/promotions.md
"Stacking").
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.domain.catalog import Product, share_of
from chalicelib.domain.errors import DomainError, Kind, error
from chalicelib.domain.orders import Line, line_of
from chalicelib.domain.promotions import (
    Applied,
    BundleTerms,
    Coupon,
    CouponNotUsable,
    FullGiftTerms,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    PurchaseLimitReached,
)
from chalicelib.domain.refunds import spread

PromotionBudgetSpent = error("PROMOTION_BUDGET_SPENT", Kind.CONFLICT,
                             "A loss-leader promotion of the order has spent its budget; quote again.")


@dataclass(frozen=True)
class Priced:
    """The result: the lines (bought ones with their discounts, then gift lines), the promotions
    that gave something, in the order applied, and the coupon used."""

    lines: tuple[Line, ...]
    applied: tuple[Applied, ...] = ()
    coupon_id: str | None = None

    @property
    def gifts(self) -> tuple[Line, ...]:
        """The lines carrying free units (their ``free_units`` are the gifts)."""
        return tuple(line for line in self.lines if line.free_units)

    @property
    def items_fen(self) -> int:
        return sum(line.list_fen for line in self.lines)

    @property
    def amount_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        return self.items_fen - self.amount_fen


@dataclass(frozen=True)
class Taking:
    """What a checkout takes besides stock, in the order's transaction: the coupon, each loss
    leader's spending (promotion, fen), and per product with a limit (units, limit)."""

    coupon: Coupon | None = None
    budgets: Sequence[tuple[Promotion, int]] = ()
    limits: Mapping[str, tuple[int, int]] = field(default_factory=dict)


def price(lines: Sequence[Line], products: Mapping[str, Product], promotions: Sequence[Promotion],
          coupon: Coupon | None, buyer_id: str, now: datetime) -> Priced:
    """Apply the promotions in force at ``now`` and ``coupon`` to ``lines`` (at list prices, as
    ``orders.price_lines`` makes them; ``products`` holds theirs and the gifts'). COUPON_NOT_USABLE
    when the coupon is not the buyer's, used, expired, or the subtotal is below its minimum."""
    live = sorted((p for p in promotions if p.in_force(now)), key=lambda p: p.promotion_id)
    discounts = [0] * len(lines)
    bundled, applied = _bundles(lines, [(p.promotion_id, p.terms) for p in live if isinstance(p.terms, BundleTerms)],
                                discounts)
    days = [(p.promotion_id, p.terms) for p in live if isinstance(p.terms, MemberDayTerms)]
    applied += _member_days(lines, products, days, bundled, discounts)
    if coupon is not None:
        applied.append(_coupon(lines, coupon, buyer_id, now, discounts))
    priced = [replace(line, discount_fen=off) for line, off in zip(lines, discounts, strict=True)]
    amount = sum(line.paid_fen for line in priced)
    for promotion in live:
        if isinstance(promotion.terms, FullGiftTerms) and amount >= promotion.terms.min_spend_fen:
            given = _give(priced, products, promotion.promotion_id, promotion.terms)
            if given is not None:
                applied.append(given)
    return Priced(tuple(priced), tuple(applied), coupon.coupon_id if coupon else None)


def subtotal_fen(lines: Sequence[Line], products: Mapping[str, Product], promotions: Sequence[Promotion],
                 buyer_id: str, now: datetime) -> int:
    """What a coupon's minimum spend is compared with: the amount after bundles and member days."""
    return price(lines, products, promotions, None, buyer_id, now).amount_fen


def applicable(coupons: Sequence[Coupon], subtotal: int, buyer_id: str, now: datetime) -> list[Coupon]:
    """The caller's coupons this order can use (the quote's ``applicable_coupons``): usable, and
    the subtotal reaches their minimum; the largest amount first (ties: the soonest to expire)."""
    fits = [c for c in coupons if c.usable_by(buyer_id, now) and subtotal >= c.min_spend_fen]
    return sorted(fits, key=lambda c: (-c.amount_fen, c.valid_until, c.coupon_id))


def _bundles(lines: Sequence[Line], bundles: Sequence[tuple[str, BundleTerms]], discounts: list[int]
             ) -> tuple[list[int], list[Applied]]:
    """Step 1: the units each line gives to bundles, and the bundles applied (``discounts`` gains
    each set's saving, spread over its lines in proportion to their value)."""
    where = {(line.product_id, line.sku_id): i for i, line in enumerate(lines)}
    left = [line.quantity for line in lines]
    applied = []

    def saving(bundle: tuple[str, BundleTerms]) -> int:
        terms = bundle[1]
        if any((item.product_id, item.sku_id) not in where for item in terms.items):
            return 0
        return sum(lines[where[(i.product_id, i.sku_id)]].unit_price_fen * i.quantity for i in terms.items) \
            - terms.price_fen

    for bundle in sorted(bundles, key=lambda b: (-saving(b), b[0])):
        (promotion_id, terms), per_set = bundle, saving(bundle)
        if per_set <= 0:
            continue
        at = [(where[(i.product_id, i.sku_id)], i.quantity) for i in terms.items]
        sets = min(left[index] // units for index, units in at)
        if sets < 1:
            continue
        parts = [(index, lines[index].unit_price_fen * units * sets) for index, units in at]
        for (index, units), off in zip(at, spread(per_set * sets, parts), strict=True):
            left[index] -= units * sets
            discounts[index] += off
        applied.append(Applied(promotion_id, PromotionKind.BUNDLE, discount_fen=per_set * sets))
    return [line.quantity - rest for line, rest in zip(lines, left, strict=True)], applied


def _member_days(lines: Sequence[Line], products: Mapping[str, Product], days: Sequence[tuple[str, MemberDayTerms]],
                 bundled: Sequence[int], discounts: list[int]) -> list[Applied]:
    """Step 2: on each line's units outside bundles, the largest member-day discount covering its
    category (ties: the smaller promotion id), floored per line."""
    ranked = sorted(days, key=lambda d: (-d[1].discount_bp, d[0]))
    given: dict[str, int] = {}
    for index, line in enumerate(lines):
        product = products.get(line.product_id)
        best = next((d for d in ranked if product and d[1].covers(product.category)), None)
        if best is None:
            continue
        off = share_of(line.unit_price_fen * (line.quantity - bundled[index]), best[1].discount_bp)
        if off:
            discounts[index] += off
            given[best[0]] = given.get(best[0], 0) + off
    return [Applied(promotion_id, PromotionKind.MEMBER_DAY, discount_fen=given[promotion_id])
            for promotion_id, _ in ranked if promotion_id in given]


def _coupon(lines: Sequence[Line], coupon: Coupon, buyer_id: str, now: datetime, discounts: list[int]) -> Applied:
    """Step 3: the coupon's amount, at most the subtotal, spread over the lines in proportion to
    what they pay after steps 1–2."""
    paying = [(i, line.list_fen - discounts[i]) for i, line in enumerate(lines)]
    subtotal = sum(value for _, value in paying)
    if not coupon.usable_by(buyer_id, now):
        raise CouponNotUsable("the coupon is not yours, used or expired", coupon_id=coupon.coupon_id,
                              status=coupon.status(now).value if coupon.user_id == buyer_id else "not_yours")
    if subtotal < coupon.min_spend_fen:
        raise CouponNotUsable("the order is below the coupon's minimum spend", coupon_id=coupon.coupon_id,
                              min_spend_fen=coupon.min_spend_fen, subtotal_fen=subtotal)
    off = min(coupon.amount_fen, subtotal)
    for (index, _), share in zip(paying, spread(off, paying), strict=True):
        discounts[index] += share
    return Applied(coupon.promotion_id, coupon.kind, discount_fen=off, coupon_id=coupon.coupon_id)


def _give(lines: list[Line], products: Mapping[str, Product], promotion_id: str, terms: FullGiftTerms
          ) -> Applied | None:
    """Step 4: one gift, as free units on the line of its product (or SKU), else a new
    zero-price line; None when the gift is not sold now or its stock as read is short."""
    want = terms.gift
    product = products.get(want.product_id)
    if product is None or not product.listed:
        return None
    try:
        line = line_of(product, want.sku_id, want.quantity)
    except DomainError:  # the gift's SKU is gone (or the product gained SKUs): not given
        return None
    at = next((i for i, old in enumerate(lines) if old.stock_id == line.stock_id), None)
    taken = lines[at].quantity if at is not None else 0
    sku = product.sku(want.sku_id) if want.sku_id else None
    stock = sku.stock if sku else product.stock
    if stock is not None and stock < taken + want.quantity:
        return None
    if at is None:
        lines.append(replace(line, free_units=want.quantity))
    else:
        old = lines[at]
        lines[at] = replace(old, quantity=old.quantity + want.quantity, free_units=old.free_units + want.quantity)
    return Applied(promotion_id, PromotionKind.FULL_GIFT, gift_cost_fen=line.unit_cost_fen * want.quantity)


def gift_wants(promotions: Sequence[Promotion], now: datetime) -> list[tuple[str, str | None]]:
    """(product, SKU) of every gift a full gift in force may give: checkout reads them with the cart."""
    return [(p.terms.gift.product_id, p.terms.gift.sku_id) for p in promotions
            if isinstance(p.terms, FullGiftTerms) and p.in_force(now)]


def limited_units(lines: Sequence[Line], products: Mapping[str, Product]) -> dict[str, tuple[int, int]]:
    """Per product with a purchase limit: (units this order buys of it, all SKUs, free units
    aside; its limit). PURCHASE_LIMIT_REACHED when one order alone asks more than the limit."""
    units: dict[str, int] = {}
    for line in lines:
        units[line.product_id] = units.get(line.product_id, 0) + line.quantity - line.free_units
    limited = {}
    for product_id, count in units.items():
        limit = products[product_id].limit_per_user if product_id in products else None
        if limit is not None and count:
            if count > limit:
                raise PurchaseLimitReached("the order asks more units than the limit per user", product_id=product_id,
                                           limit_per_user=limit, asked=count)
            limited[product_id] = (count, limit)
    return limited
