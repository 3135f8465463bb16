"""What an order's promotions write inside the order's own transactions (docs/promotions.md
"Checkout, cancellation and refunds"): one call in each.

* checkout (``take``): the coupon used (promo-core's item, ``store/promotions.py``: conditioned on
  being unused, the buyer's and valid), each loss leader's budget spent (conditioned on staying
  within it), and the buyer's purchase counters ``(user, "bought#<product>")`` of the products
  with a limit (``bought_units`` + the order's units, conditioned on staying within the limit);
* unpaid cancellation and the refund before shipment (``give_back``): the coupon back
  (conditioned on this order using it) and the counted units back. A loss leader's budget is not
  given back (a conservative budget: what was spent stays spent).

``refusal`` turns a refused transaction into the buyer's error (COUPON_NOT_USABLE,
PROMOTION_BUDGET_SPENT, PURCHASE_LIMIT_REACHED), or None when none of these refused.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import Order
from chalicelib.domain.pricing import PromotionBudgetSpent, Taking
from chalicelib.domain.promotions import CouponNotUsable, PurchaseLimitReached
from chalicelib.store.base import TransactionFailed
from chalicelib.store.promotions import (
    budget_refused,
    coupon_refused,
    give_back_coupon_part,
    spend_budget_part,
    use_coupon_part,
)
from chalicelib.store.users import UserItem

BOUGHT = "bought#"


def bought_key(product_id: str) -> str:
    return f"{BOUGHT}{product_id}"


def take(tx: TransactWrite, order: Order, taking: Taking, now: datetime) -> None:
    if taking.coupon is not None:
        use_coupon_part(taking.coupon, order.order_id, now)(tx)
    for promotion, fen in taking.budgets:
        spend_budget_part(promotion, fen, order.order_id)(tx)
    for product_id, (units, limit) in sorted(taking.limits.items()):
        tx.update(UserItem(order.buyer_id, bought_key(product_id)), actions=[UserItem.bought_units.add(units)],
                  condition=UserItem.bought_units.does_not_exist() | (UserItem.bought_units <= limit - units))


def give_back(tx: TransactWrite, order: Order) -> None:
    if order.coupon_id is not None:
        give_back_coupon_part(order.coupon_id, order.order_id)(tx)
    for product_id, units in order.limited:
        tx.update(UserItem(order.buyer_id, bought_key(product_id)), actions=[UserItem.bought_units.add(-units)])


def refusal(failure: TransactionFailed, order: Order, taking: Taking) -> DomainError | None:
    """The buyer's error for a checkout transaction refused by the coupon, a budget or a limit."""
    if taking.coupon is not None and coupon_refused(failure, taking.coupon.coupon_id):
        return CouponNotUsable("the coupon was used, or expired, meanwhile", coupon_id=taking.coupon.coupon_id)
    for promotion, fen in taking.budgets:
        if budget_refused(failure, promotion.promotion_id):
            return PromotionBudgetSpent("the promotion's budget is spent", promotion_id=promotion.promotion_id,
                                        spent_fen=fen)
    for product_id, (units, limit) in taking.limits.items():
        if failure.refused(UserItem.Meta.table_name, pk=order.buyer_id, sk=bought_key(product_id)):
            return PurchaseLimitReached(f"at most {limit} of this product per user", product_id=product_id,
                                        limit_per_user=limit, asked=units)
    return None
