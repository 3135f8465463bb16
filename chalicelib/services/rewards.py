"""Rewards paid into wallets: invitation-milestone cash (after ``evaluate_tiers`` records it) and
the partners' monthly team bonus (the ``team_bonus`` job). Both are exactly once: see
``store/rewards.py``."""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.payouts import earns_team_bonus, team_bonus_fen
from chalicelib.domain.shards import SHARDS
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.store.rewards import RewardStore

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ATTEMPTS = 5


def credit_milestones(user_id: str, now: datetime, deps: Deps) -> int:
    """Credit every cash milestone of a user recorded but not yet credited; returns how many."""
    from chalicelib.store.rewards import RewardStore

    store = RewardStore()
    credited = 0
    for cash in store.uncredited_cash(user_id):
        credit = partial(store.credit_milestone, user_id, cash.invitees, cash.cash_fen, now)
        if run_until_committed(credit, attempts=ATTEMPTS, what="this wallet"):
            credited += 1
    return credited


def team_bonus(now: datetime, deps: Deps) -> dict[str, Any]:
    """Pay every partner the team bonus of the month that ended before ``now`` (Shanghai), once.

    Scheduled daily: the first run of a month pays the month before and marks it done; later runs
    of that month see the mark and stop. A run interrupted midway is finished by the next one
    (each partner's payment is conditioned on that month not being paid)."""
    from chalicelib.store.rewards import RewardStore

    store = RewardStore()
    month = previous_month(business_month(now))
    summary: dict[str, Any] = {"month": month, "partners": 0, "paid": 0, "paid_fen": 0, "already_paid": 0}
    if store.month_done(month):
        summary["skipped"] = "month already paid"
        return summary
    partners = (u for shard in SHARDS for u in deps.users.distributors(shard) if earns_team_bonus(u.tier))
    for user in partners:
        summary["partners"] += 1
        _pay_team_bonus(store, user.user_id, month, now, deps, summary)
    store.mark_month_done(month, now)
    return summary


def _pay_team_bonus(store: RewardStore, user_id: str, month: str, now: datetime, deps: Deps,
                    summary: dict[str, Any]) -> None:
    """One partner's bonus of ``month``, unless paid before; counted in ``summary``."""
    sales, paid = store.team_sales(user_id, month)
    bonus = team_bonus_fen(sales, deps.settings.rules.commission.team_bonus_bp)
    if paid:
        summary["already_paid"] += 1
    elif bonus > 0:
        pay = partial(store.pay_team_bonus, user_id, month, bonus, now)
        if run_until_committed(pay, attempts=ATTEMPTS, what="this wallet"):
            summary["paid"] += 1
            summary["paid_fen"] += bonus
        else:
            summary["already_paid"] += 1
