"""Payouts beyond an order's own commission: who an order's value counts for as team sales, and
the partner's monthly team bonus on them (DOMAIN.md §2: "team" = level-1 + level-2 downline; the
team bonus is a rate on the paid value of orders whose level 1 or level 2 is the partner).

Like every commission, the bonus goes through ``catalog.share_of``: floored to the fen, the
remainder stays with the platform. Never a third level: only an order's ``Upline`` shares.
"""
from __future__ import annotations

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import share_of
from chalicelib.domain.tiers import Tier


def team_sharers(upline: Upline) -> list[str]:
    """Whose team sales an order's value moves (paid: up; refunded: down): its level 1 and its
    level 2, each once. The order's payees, nobody above them."""
    return list(dict.fromkeys(u for u in (upline.level1, upline.level2) if u))


def earns_team_bonus(tier: Tier) -> bool:
    """Only partners (合伙人) earn the team bonus."""
    return tier is Tier.PARTNER


def team_bonus_fen(team_sales_fen: int, rate_bp: int) -> int:
    """A month's team bonus: the rate on the month's team sales, floored to the fen by the one
    rounding function. A month whose refunds outweigh its sales (negative) earns nothing."""
    return share_of(max(team_sales_fen, 0), rate_bp)
