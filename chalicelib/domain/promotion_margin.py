"""The margin guard of a promotion (DOMAIN.md §9, API.md ``422 PROMOTION_BELOW_COST``): a
promotion whose worst case sells below cost plus the largest commission is refused, unless the
operator marks it a loss leader with a budget (checkout then spends at most the budget).

"The largest commission" is the product guard's own (``domain/orders.largest_payout_fen``:
partner level 1 + level 2 + two team bonuses), on what the line is paid after the promotion
(commission is computed on what each line paid). Each promotion is checked on its own, on the
regular prices of the SKUs it can touch (every variant: a product's SKUs, each at its own price
and cost):

* ``member_day``: one unit of a covered SKU at its member-day price;
* ``coupon`` / ``new_user_coupon``: the coupon's share of one unit of any SKU in the smallest
  order that may use it (worth ``max(min_spend, price)``), at the largest amount it grants
  (a red packet's largest variant);
* ``full_gift``: the smallest order of any one SKU that reaches the minimum spend must keep, after
  its payouts, the gift's cost (the gift itself earns no commission);
* ``bundle``: a set at its price, spread over its items in proportion to their regular value,
  must pay every item's cost and payout (the set as a whole: one item may subsidise another).

Pure: the service reads the products (``services/promotions.py``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import largest_payout_fen
from chalicelib.domain.promotions import BundleTerms, CouponTerms, FullGiftTerms, ItemRef, MemberDayTerms, Promotion
from chalicelib.domain.refunds import spread

PromotionBelowCost = error("PROMOTION_BELOW_COST", Kind.INVALID,
                           "In its worst case the promotion sells below cost plus the largest commission; mark it "
                           "a loss leader with a budget_fen to run it anyway.")


@dataclass(frozen=True)
class Payouts:
    """What the largest payout depends on in the rules: the top tier's uplift, the team bonus."""

    top_uplift_bp: int
    team_bonus_bp: int

    def largest(self, v: Product, paid_fen: int) -> int:
        return largest_payout_fen(paid_fen, v.level1_rate_bp, v.level2_rate_bp, self.top_uplift_bp,
                                  self.team_bonus_bp)


@dataclass(frozen=True)
class Shortfall:
    """The worst case found: where, what is paid, and what it must at least pay."""

    product_id: str
    sku_id: str | None
    paid_fen: int
    needs_fen: int  # cost + the largest payout (+ a gift's cost)


def variants(product: Product) -> list[tuple[str | None, Product]]:
    """A product's SKUs, each as a product at its own price and cost (no SKU: itself)."""
    ids: list[str | None] = [s.sku_id for s in product.skus] or [None]
    return list(zip(ids, product.variants(), strict=True))


def worst_case(promotion: Promotion, products: Iterable[Product], gift: Product | None, pay: Payouts) -> Shortfall | None:
    """The first case where ``promotion`` sells below cost plus the largest payout, over
    ``products`` (the SKUs it may touch: every listed product, or a bundle's), or None."""
    t = promotion.terms
    if isinstance(t, BundleTerms):
        return _bundle(t, {p.product_id: p for p in products}, pay)
    for product in products:
        for sku_id, v in variants(product):
            found = _one(t, product, v, gift, pay)
            if found is not None:
                return Shortfall(product.product_id, sku_id, *found)
    return None


def check(promotion: Promotion, products: Iterable[Product], gift: Product | None, pay: Payouts) -> None:
    """PROMOTION_BELOW_COST (with the case) unless a loss leader or no case falls below."""
    if promotion.loss_leader:
        return
    found = worst_case(promotion, products, gift, pay)
    if found is not None:
        raise PromotionBelowCost("the promotion's worst case sells below cost plus the largest commission",
                                 product_id=found.product_id, sku_id=found.sku_id, paid_fen=found.paid_fen,
                                 needs_fen=found.needs_fen)


def _one(t: object, product: Product, v: Product, gift: Product | None, pay: Payouts) -> tuple[int, int] | None:
    price = v.price_fen
    if isinstance(t, MemberDayTerms):
        if not t.covers(product.category):
            return None
        paid = price - price * t.discount_bp // 10_000
        return _below(paid, v.cost_fen + pay.largest(v, paid))
    if isinstance(t, CouponTerms):
        amount = max([t.amount_fen, *t.variant_amounts_fen.values()])
        order = max(t.min_spend_fen, price)
        paid = max(0, price - -(-amount * price // order))  # the unit's share of the discount, rounded up
        return _below(paid, v.cost_fen + pay.largest(v, paid))
    if isinstance(t, FullGiftTerms):
        units = max(1, -(-t.min_spend_fen // price)) if price else 1
        paid = units * price
        gift_cost = gift_cost_fen(t.gift, gift)
        return _below(paid, units * v.cost_fen + pay.largest(v, paid) + gift_cost)
    return None


def _below(paid: int, needs: int) -> tuple[int, int] | None:
    return (paid, needs) if paid < needs else None


def gift_cost_fen(item: ItemRef, gift: Product | None) -> int:
    """What a gift costs the platform: its SKU's cost (the dearest SKU when none is named)."""
    if gift is None:
        return 0
    sku = gift.sku(item.sku_id) if item.sku_id else None
    unit = sku.cost_fen if sku else max(v.cost_fen for v in gift.variants())
    return unit * item.quantity


def _bundle(t: BundleTerms, products: dict[str, Product], pay: Payouts) -> Shortfall | None:
    """The set at its price, spread in proportion to the items' regular value (floored, the
    remainder on the largest: ``domain/refunds.spread``, the pricing's rounding)."""
    chosen = [(item, _bundle_variant(item, products[item.product_id])) for item in t.items]
    values = [v.price_fen * item.quantity for item, v in chosen]
    if sum(values) < t.price_fen:  # dearer than its parts: not a discount, nothing to guard
        return None
    shares = spread(t.price_fen, list(enumerate(values)))
    needs = sum(v.cost_fen * item.quantity + pay.largest(v, share) for (item, v), share in zip(chosen, shares,
                                                                                             strict=True))
    if t.price_fen < needs:
        first = t.items[0]
        return Shortfall(first.product_id, first.sku_id, t.price_fen, needs)
    return None


def _bundle_variant(item: ItemRef, product: Product) -> Product:
    """The item's SKU; without one named on a product with SKUs, the one that leaves the least."""
    pairs = variants(product)
    named = [v for sku_id, v in pairs if sku_id == item.sku_id]
    if named:
        return named[0]
    return max((v for _, v in pairs), key=lambda v: v.cost_fen)
