"""Quote and checkout's pricing (docs/promotions.md "Pricing"): the cart read with the promotions
running now, priced by the one pricing function (domain/pricing.py), so ``POST /v1/orders/quote``
and ``POST /v1/orders`` compute the same thing from the same reads.

Round trips: the promotions come from promo-core's per-process list (none in the common case);
the cart, the gifts' products, the buyer, the Idempotency-Key claim and the coupon named are one
BatchGetItem (``OrderStore.checkout_reads``); a quote adds one Query, the caller's usable coupons
(``applicable_coupons``); a checkout adds its one transaction.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.orders import OrderNotFound, Want, Wanted, price_lines
from chalicelib.domain.pricing import Priced, Taking, applicable, gift_wants, limited_units, price, subtotal_fen
from chalicelib.domain.promotions import Coupon, CouponNotUsable, Promotion
from chalicelib.domain.stock import stock_id

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.orders import CheckoutReads


@dataclass(frozen=True)
class Quote:
    priced: Priced
    applicable_coupons: list[Coupon]


def cart_reads(buyer_id: str, asked: Sequence[Want], key: str | None, coupon_id: str | None, now: datetime,
               deps: Deps) -> tuple[CheckoutReads, list[Promotion]]:
    """The promotions running now (cached) and, in one BatchGetItem, what pricing the cart reads:
    the buyer, the cart's and the possible gifts' products (a SKU's stock item too), the key's
    claim and the coupon named."""
    promotions = deps.promotions.running(now)
    gifts = gift_wants(promotions, now)
    reads = deps.orders.checkout_reads(
        buyer_id, [w.product_id for w in asked] + [product_id for product_id, _ in gifts], key,
        [stock_id(w.product_id, w.sku_id) for w in asked if w.sku_id]
        + [stock_id(product_id, sku_id) for product_id, sku_id in gifts if sku_id], coupon_id)
    if reads.buyer is None:
        raise OrderNotFound("no such user; log in again")
    return reads, promotions


def priced_cart(buyer_id: str, asked: Sequence[Want], coupon_id: str | None, reads: CheckoutReads,
                promotions: Sequence[Promotion], now: datetime) -> tuple[Priced, Taking]:
    """The cart priced, and what its checkout takes besides stock: the coupon, the spending of
    each loss leader it took, the units it counts against purchase limits. COUPON_NOT_USABLE
    for a coupon named that does not exist; PURCHASE_LIMIT_REACHED for an order alone past a limit."""
    if coupon_id is not None and reads.coupon is None:
        raise CouponNotUsable("no such coupon", coupon_id=coupon_id)
    priced = price(price_lines(list(asked), reads.products), reads.products, promotions, reads.coupon, buyer_id, now)
    running = {p.promotion_id: p for p in promotions}
    budgets = [(running[a.promotion_id], a.spent_fen) for a in priced.applied
               if a.promotion_id in running and running[a.promotion_id].loss_leader and a.spent_fen > 0]
    return priced, Taking(reads.coupon, budgets, limited_units(priced.lines, reads.products))


def quote(buyer_id: str, wanted: Sequence[Wanted], coupon_id: str | None, deps: Deps) -> Quote:
    """``POST /v1/orders/quote``: what ``POST /v1/orders`` would charge for the same body now, and
    the caller's coupons the cart can use (largest first). Writes nothing; refuses what checkout
    refuses before its transaction (a bad line, an unusable coupon, one order past a limit)."""
    now, asked = deps.clock(), [Want(*w) for w in wanted]
    reads, promotions = cart_reads(buyer_id, asked, None, coupon_id, now, deps)
    priced, _ = priced_cart(buyer_id, asked, coupon_id, reads, promotions, now)
    subtotal = subtotal_fen(price_lines(list(asked), reads.products), reads.products, promotions, buyer_id, now)
    return Quote(priced, applicable(deps.promotions.usable_coupons(buyer_id, now), subtotal, buyer_id, now))
