"""Rewards paid into wallets: invitation-milestone cash (after ``evaluate_tiers`` records it) and
the partners' monthly team bonus (the ``team_bonus`` job). Both are exactly once: see
``store/rewards.py``."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.tiers import Tier
from chalicelib.services.retry import backoff

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ATTEMPTS = 5


def _once(pay: Callable[[], bool]) -> bool:
    """Run a conditional payment, retrying when a concurrent transaction (not a condition) cancelled it."""
    from chalicelib.store.base import TransactionFailed

    for attempt in range(ATTEMPTS):
        try:
            return pay()
        except TransactionFailed as exc:
            if not exc.conflict or attempt == ATTEMPTS - 1:
                raise
            backoff(attempt)
    raise AssertionError("unreachable")


def credit_milestones(user_id: str, now: datetime, deps: Deps) -> int:
    """Credit every cash milestone of a user recorded but not yet credited; returns how many."""
    from chalicelib.store.rewards import RewardStore

    store = RewardStore()
    credited = 0
    for cash in store.uncredited_cash(user_id):
        if _once(partial(store.credit_milestone, user_id, cash.invitees, cash.cash_fen, now)):
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
    bp = deps.settings.rules.commission.team_bonus_bp
    for shard in SHARDS:
        for user in deps.users.distributors(shard):
            if user.tier is not Tier.PARTNER:
                continue
            summary["partners"] += 1
            sales, paid = store.team_sales(user.user_id, month)
            bonus = max(sales, 0) * bp // 10_000
            if paid:
                summary["already_paid"] += 1
            elif bonus > 0:
                if _once(partial(store.pay_team_bonus, user.user_id, month, bonus, now)):
                    summary["paid"] += 1
                    summary["paid_fen"] += bonus
                else:
                    summary["already_paid"] += 1
    store.mark_month_done(month, now)
    return summary
