"""Refunding a shipped or completed order whole in a test, as an after-sales case does since the
instant refund stopped at shipment (issue 16): every unit, for what was paid, under one refund
number (services/refunds.py)."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.orders import Order
from chalicelib.domain.refunds import RefundLine


def refund_whole(order_id: str, deps: Any, refund_no: str = "case-whole", restock: bool = False) -> Order:
    """The order refunded whole after shipment; with ``restock``, its units back in stock."""
    from chalicelib.services.refunds import partial_refund

    order = deps.orders.get(order_id)
    assert order is not None
    lines = [RefundLine(line.product_id, line.quantity, line.sku_id) for line in order.lines]
    left = order.amount_fen - order.refunded_fen
    return partial_refund(order_id, refund_no, lines, left, deps, reason="售后", restock=lines if restock else ()).order
