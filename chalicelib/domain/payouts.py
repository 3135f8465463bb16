"""Payouts beyond an order's own commission: who an order's value counts for as team sales, and
the partner's monthly team bonus on them (DOMAIN.md §2: "team" = level-1 + level-2 downline; the
team bonus is a rate on the paid value of orders whose level 1 or level 2 is the partner).

The team bonus is money like a commission (DOMAIN.md §9): it accrues into ``pending`` when the
month closes, becomes available after the settlement hold counted from that close, and a refund
of one of the month's orders afterwards takes the order's share back (reversed while pending,
clawed back once available). Like every commission it goes through ``catalog.share_of``: floored
to the fen, the remainder stays with the platform. Never a third level: only an order's
``Upline`` shares.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import share_of
from chalicelib.domain.clock import SHANGHAI
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


def month_close(month: str) -> datetime:
    """The instant a ``YYYY-MM`` month (Shanghai) closes: 00:00 Shanghai on the 1st of the next."""
    year, mon = (int(p) for p in month.split("-"))
    first: date = date(year + 1, 1, 1) if mon == 12 else date(year, mon + 1, 1)
    return datetime.combine(first, time(0), tzinfo=SHANGHAI)


def team_bonus_available_at(month: str, hold_days: int) -> datetime:
    """When a month's team bonus becomes available: the settlement hold (T+N, the same N as the
    orders' commissions) counted from the month's close, i.e. 00:00 Shanghai on day 1+N of the
    next month. Fixed by the month alone: a late or repeated run of the job changes nothing."""
    return month_close(month) + timedelta(days=hold_days)


def team_bonus_refund_fen(refunded_fen: int, rate_bp: int, remaining_fen: int) -> int:
    """What a refund takes back from a month's bonus already accrued: the refunded order's share
    of the month's team sales at the rate the bonus was accrued with, floored by ``share_of``
    like the accrual; never more than is left of the bonus.

    The shares of the orders refunded after the accrual never add up to more than the bonus (a sum
    of floors is at most the floor of the sum), so the cap only guards against a bad figure."""
    return min(share_of(refunded_fen, rate_bp), max(remaining_fen, 0))


def partner_months(tier: Tier, tier_month: str | None, new_tier: Tier, month: str) -> list[str]:
    """The months a tier evaluation in ``month`` records as held as partner (the team bonus is
    paid for the tier held during the month, not the tier at payout time): the month the tier
    being left was held in (``tier_month``, when it was a partner's and is another month), and
    ``month`` when the evaluation leaves or makes the distributor a partner."""
    months = []
    if earns_team_bonus(tier) and tier_month and tier_month != month:
        months.append(tier_month)
    if earns_team_bonus(new_tier):
        months.append(month)
    return months
