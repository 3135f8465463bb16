"""The partner's own back office (合伙人独立后台, DOMAIN.md §1 "own back office"): the figures of
a partner's team over the last days, from the orders that team's members paid (docs/tier-rights.md).

A **team order** is one whose level-1 or level-2 distributor is the partner (the orders their
team sales count, domain/payouts.py ``team_sharers``). Its **value** is what was paid less what
was refunded (0 for a refunded order); an unpaid or cancelled order has none. Conversion is the
team's paying buyers over its members (level 1 + level 2), so it never exceeds 100% while the
buyers are members.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.domain.clock import business_date
from chalicelib.domain.orders import Order, OrderStatus

PAID = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.REFUNDED})


def value_fen(order: Order) -> int:
    """What an order brought: paid less refunded; nothing for an unpaid or fully refunded one."""
    if order.status not in PAID or order.paid_at is None or order.status is OrderStatus.REFUNDED:
        return 0
    return max(order.amount_fen - order.refunded_fen, 0)


def is_team_order(order: Order, partner_id: str) -> bool:
    return partner_id in (order.upline.level1, order.upline.level2)


@dataclass(frozen=True)
class TeamProduct:
    product_id: str
    name: str
    units: int
    value_fen: int


@dataclass(frozen=True)
class TeamFigures:
    days: list[dict[str, object]]  # one row per Shanghai day, oldest first: date, gmv_fen, orders, paying_users
    gmv_fen: int
    orders: int
    paying_buyers: int
    top_products: list[TeamProduct]


def team_figures(orders: list[Order], partner_id: str, from_day: date, to_day: date, top: int = 5) -> TeamFigures:
    """The team's figures per day of the period (by the day each order was paid) and in total;
    orders of other teams or outside the period are left out whatever the caller passed."""
    per_day: dict[date, list[Order]] = defaultdict(list)
    for order in orders:
        if order.paid_at is None or not is_team_order(order, partner_id) or value_fen(order) <= 0:
            continue
        day = business_date(order.paid_at)
        if from_day <= day <= to_day:
            per_day[day].append(order)
    rows: list[dict[str, object]] = []
    for i in range((to_day - from_day).days + 1):
        day = from_day + timedelta(days=i)
        paid = per_day.get(day, [])
        gmv = sum(value_fen(o) for o in paid)
        rows.append({"date": day.isoformat(), "gmv_fen": gmv, "orders": len(paid),
                     "paying_users": len({o.buyer_id for o in paid}),
                     "avg_order_value_fen": gmv // len(paid) if paid else 0})
    counted = [o for day_orders in per_day.values() for o in day_orders]
    return TeamFigures(rows, sum(value_fen(o) for o in counted), len(counted), len({o.buyer_id for o in counted}),
                       _top_products(counted, top))


def _top_products(orders: list[Order], top: int) -> list[TeamProduct]:
    units: Counter[str] = Counter()
    value: Counter[str] = Counter()
    names: dict[str, str] = {}
    for order in orders:
        for line in order.lines:
            units[line.product_id] += line.quantity
            value[line.product_id] += line.quantity * line.unit_price_fen
            names[line.product_id] = line.name
    ranked = sorted(units, key=lambda pid: (-units[pid], -value[pid], pid))
    return [TeamProduct(pid, names[pid], units[pid], value[pid]) for pid in ranked[:top]]


def conversion_bp(paying_buyers: int, members: int) -> int | None:
    """Paying buyers over team members in basis points (floored); None for a team of nobody."""
    if members <= 0:
        return None
    return min(paying_buyers * 10_000 // members, 10_000)
