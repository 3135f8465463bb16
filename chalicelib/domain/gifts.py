"""The invitation ladder's gift pack (DOMAIN.md §4, §9): reaching a ``gift_pack`` milestone
(10 qualified invitees by default) sends the distributor the gift product the rules name, as a
zero-price order fulfilled like any other: no payment, no commission, no upline, and it never
qualifies its receiver for their own inviter's ladder (only a paid purchase does, §1)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import Order, OrderStatus, line_of

GIFT = "gift"  # the order's kind

GiftNotFound = error("GIFT_NOT_FOUND", Kind.NOT_FOUND,
                     "No gift-pack milestone of this count has been reached by the caller.")
GiftNotConfigured = error("GIFT_NOT_CONFIGURED", Kind.CONFLICT,
                          "No gift product is configured yet (rules gift_pack.product_id); the milestone waits.")


def gift_order(order_id: str, user_id: str, product: Product, sku_id: str | None, quantity: int,
               address: dict[str, Any], now: datetime, rules_version: int) -> Order:
    """The gift's order: one line of the product (or SKU) at price 0, paid at creation (nothing
    to pay), no upline (so no commission), shipped to ``address``."""
    return Order(order_id, user_id, OrderStatus.PAID, [line_of(product, sku_id, quantity, 0)], 0, now, now,
                 kind=GIFT, paid_at=now, address=address, rules_version=rules_version)
