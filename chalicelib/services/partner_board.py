"""The partner's own data board (独立后台, docs/tier-rights.md): the phone board of
``services/dashboard.py`` scoped to one partner's team: members, GMV, conversion, average order
value, top products and their team bonus. Opened in the mini-program's web-view with a
short-lived link the partner's own session asks for (``POST /v1/me/board/links``), or with the
partner's Bearer token (``GET /v1/me/board``). Anyone whose tier in force is not partner: 403
NOT_A_PARTNER, also when a link issued while they were one is opened after a demotion.

Reads: the partner (one GetItem), their team's orders of the period through the order indexes
``by_level1`` and ``by_level2`` keyed by the partner (Queries of their own partitions, never a
scan; at most ``MAX_ORDERS`` orders, and the board says when it stopped there) and the team
sales of this month and the last (two GetItems).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.clock import SHANGHAI, business_month, previous_month
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.partner_board import conversion_bp, team_figures
from chalicelib.domain.payouts import team_bonus_fen
from chalicelib.domain.tier_moves import in_force
from chalicelib.domain.tiers import Tier
from chalicelib.services.dashboard import Board, Kpi, TopProduct, period, ticket_claims
from chalicelib.services.sessions import ALGORITHM, ISSUER

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.orders import Order
    from chalicelib.domain.users import User

NotAPartner = error("NOT_A_PARTNER", Kind.FORBIDDEN, "The partner board is for partners (合伙人) only.")
TICKET_AUDIENCE = "fenxiao:partner-board"  # neither a session token nor the admin board's ticket passes
TICKET_TTL_SECONDS = 300
MAX_ORDERS = 2_000  # a partner's orders read per board; beyond, the board says its figures stop there
PAGE = 100
TITLE = "合伙人看板 · Partner board"
CHARTS: tuple[tuple[str, str, str, str], ...] = (
    ("gmv_fen", "Team GMV · 团队成交额 (paid − refunded)", "fen", "bar"),
    ("orders", "Team orders · 团队订单", "count", "bar"),
    ("paying_users", "Paying members · 下单成员", "count", "line"),
    ("avg_order_value_fen", "Average order value · 客单价", "fen", "line"),
)


@dataclass(frozen=True)
class PartnerBoard:
    board: Board
    truncated: bool  # more than MAX_ORDERS orders in the period: the figures cover the newest


def require_partner(user_id: str, deps: Deps) -> User:
    """The user; NOT_A_PARTNER unless their tier in force this month is partner."""
    user = deps.users.get(user_id, consistent=False)
    if user is None or not user.invite_code \
            or in_force(deps.rules.tier_rules(), user, business_month(deps.clock())) is not Tier.PARTNER:
        raise NotAPartner("the partner board is for partners (合伙人) only")
    return user


def build(partner_id: str, days: int, deps: Deps) -> PartnerBoard:
    """The board of the partner's team over the last ``days`` Shanghai days."""
    user = require_partner(partner_id, deps)
    now = deps.clock()
    from_day, to_day = period(now, days)
    orders, truncated = _team_orders(partner_id, from_day, to_day, deps)
    figures = team_figures(orders, partner_id, from_day, to_day)
    members, direct = user.member.team_count, user.member.direct_count
    month = business_month(now)
    rate = deps.rules.commission.team_bonus_bp
    this_month = deps.rewards.team_sales(partner_id, month).sales_fen
    last_month = deps.rewards.team_sales(partner_id, previous_month(month)).sales_fen
    kpis = [
        Kpi("Team GMV · 团队成交额", "fen", figures.gmv_fen, "orders", figures.orders, "count"),
        Kpi("Team members · 团队成员", "count", members, "direct invitees", direct),
        Kpi("Conversion · 转化率", "bp", conversion_bp(figures.paying_buyers, members), "paying members",
            figures.paying_buyers, "count"),
        Kpi("Average order value · 客单价", "fen", figures.gmv_fen // figures.orders if figures.orders else None,
            "period", None),
        Kpi("Team bonus · 团队奖 (this month so far)", "fen", team_bonus_fen(this_month, rate),
            "last month", team_bonus_fen(last_month, rate)),
        Kpi("Team sales · 团队业绩 (this month)", "fen", this_month, "last month", last_month),
    ]
    top = [TopProduct(p.product_id, p.name, p.units, 0, None, None) for p in figures.top_products]
    board = Board(from_day, to_day, now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), figures.days, kpis, top)
    return PartnerBoard(board, truncated)


def _team_orders(partner_id: str, from_day: date, to_day: date, deps: Deps) -> tuple[list[Order], bool]:
    """The orders whose level 1 or 2 is the partner, created in the period or the day before it
    (an order is counted on its payment day), newest first, at most ``MAX_ORDERS``."""
    from chalicelib.services.fulfilment import OrderFilter, list_orders

    wanted = OrderFilter(start=from_day - timedelta(days=1), end=to_day, distributor_id=partner_id)
    found: list[Order] = []
    cursor: str | None = None
    while True:
        page, cursor = list_orders(wanted, PAGE, cursor, deps)
        found += page
        if cursor is None or len(found) >= MAX_ORDERS:
            return found[:MAX_ORDERS], cursor is not None


def issue_ticket(user_id: str, deps: Deps) -> tuple[str, datetime]:
    """A token that opens the partner's own board only, for ``TICKET_TTL_SECONDS``."""
    import jwt

    require_partner(user_id, deps)
    now = deps.clock()
    expires = now + timedelta(seconds=TICKET_TTL_SECONDS)
    claims = {"sub": user_id, "iss": ISSUER, "aud": TICKET_AUDIENCE, "iat": int(now.timestamp()),
              "exp": int(expires.timestamp())}
    return jwt.encode(claims, deps.settings.jwt_secret, algorithm=ALGORITHM), expires


def verify_ticket(ticket: str, deps: Deps) -> str:
    """The partner a board ticket was issued to; Unauthenticated when forged, expired or not a
    partner-board ticket (a session token or the admin board's ticket is not one)."""
    return str(ticket_claims(ticket, TICKET_AUDIENCE, deps)["sub"])
