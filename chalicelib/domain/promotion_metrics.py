"""Measuring the levers (issue 19, docs/promotions.md "Measuring the levers"): what a paid or
refunded order adds to the counters of each promotion it took, and the figures of a promotion's
day beside the orders of the day that did not take it.

Pure: the order's record of its promotions (``Order.promotions``, one ``Applied`` per promotion
taken, domain/promotions.py) is all it reads. Money in fen, every division floored, an average
over nothing is 0 (as ``metrics.avg_order_value_fen``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.domain.metrics import avg_order_value_fen, gmv_fen

if TYPE_CHECKING:
    from chalicelib.domain.promotions import Applied

Counts = dict[str, int]
# A promotion's counters of a day (per promotion, and the same names summed over "any promotion"
# in the day counters ``promoted_*``).
PROMOTION_COUNTERS = ("orders", "paid_fen", "promotion_discount_fen", "refunds", "refunded_fen")


def taken(applied: Sequence[Applied]) -> dict[str, tuple[str, int]]:
    """Each promotion an order took, once: its kind and what it gave away on the order
    (discount and gifts' cost, summed should the record name it twice)."""
    found: dict[str, tuple[str, int]] = {}
    for a in applied:
        _, spent = found.get(a.promotion_id, (a.kind.value, 0))
        found[a.promotion_id] = (a.kind.value, spent + a.spent_fen)
    return found


def paid_counts(applied: Sequence[Applied], amount_fen: int) -> tuple[dict[str, Counts], Counts]:
    """A paid order's counts per promotion it took (an order, its amount, what the promotion gave
    away) and the day's: ``promoted_orders`` / ``promoted_paid_fen`` once if it took any,
    ``promotion_discount_fen`` everything given away."""
    per = {pid: {"orders": 1, "paid_fen": amount_fen, "promotion_discount_fen": spent}
           for pid, (_, spent) in taken(applied).items()}
    if not per:
        return {}, {}
    return per, {"promoted_orders": 1, "promoted_paid_fen": amount_fen,
                 "promotion_discount_fen": sum(c["promotion_discount_fen"] for c in per.values())}


def refund_counts(applied: Sequence[Applied], refunded_fen: int, whole: bool) -> dict[str, tuple[str, Counts]]:
    """A refund's counts per promotion the order took, with its kind: the amount refunded, and
    one refund when it refunds the order's last unit (the order no longer counts as a
    redemption)."""
    return {pid: (kind, {"refunded_fen": refunded_fen, "refunds": int(whole)})
            for pid, (kind, _) in taken(applied).items()}


def promotion_figures(promotion_id: str, c: Mapping[str, int], day_orders: int, day_paid_fen: int,
                      about: Mapping[str, Any]) -> dict[str, Any]:
    """One promotion's figures of a day. ``redemptions``: orders paid on the day that took it
    less those of its orders refunded whole on the day (a refund undoes the use; a coupon comes
    back when it was before shipment); ``gmv_fen``: paid − refunded on the day, of its orders;
    the average order value of its orders and of the day's other orders (the lever's effect on
    客单价); ``discount_fen``: what it gave away. ``about``: its ``title`` and ``kind``."""
    orders, paid = c.get("orders", 0), c.get("paid_fen", 0)
    return {"promotion_id": promotion_id, "title": about.get("title", ""), "kind": about.get("kind", ""),
            "redemptions": orders - c.get("refunds", 0), "orders": orders,
            "gmv_fen": gmv_fen(paid, c.get("refunded_fen", 0)),
            "discount_fen": c.get("promotion_discount_fen", 0),
            "avg_order_value_fen": avg_order_value_fen(paid, orders),
            "avg_order_value_without_fen": avg_order_value_fen(day_paid_fen - paid, day_orders - orders)}


def by_redemptions(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(figures, key=lambda f: (-f["redemptions"], -f["gmv_fen"], f["promotion_id"]))
