"""Measuring the levers per promotion (docs/promotions.md "Measuring the levers"): a day's
figures of each promotion its paid or refunded orders took, from the counters the order-paid
fact and the refund transactions keep (services/facts.py, store/orders.py), beside the day's
other orders. The daily metrics row carries them (``promotions``); nothing reads an order.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from chalicelib.domain.promotion_metrics import by_redemptions, promotion_figures

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


def day_promotions(day: date, counts: Mapping[str, int], deps: Deps) -> list[dict[str, Any]]:
    """The figures of every promotion with a paid or refunded order on ``day``, most redeemed
    first, each with its title and kind as the operator created it. ``counts``: the day's
    counters (its orders and amount paid). One Query per counter shard (8) and one GetItem per
    promotion (the day's promotions are the operator's few)."""
    found = deps.analytics.promotion_day_counts(day)
    figures = []
    for promotion_id, (kind, promotion_counts) in found.items():
        promotion = deps.promotions.get(promotion_id, consistent=False)
        about = {"title": promotion.title if promotion else "", "kind": promotion.kind.value if promotion else kind}
        figures.append(promotion_figures(promotion_id, promotion_counts, counts["orders"], counts["paid_fen"], about))
    return by_redemptions(figures)
