"""Rewards paid into wallets: invitation-milestone cash (after ``evaluate_tiers`` records it) and
the partners' monthly team bonus (the ``team_bonus`` job). Both are exactly once: see
``store/rewards.py``."""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.payouts import earns_team_bonus, team_bonus_available_at, team_bonus_fen
from chalicelib.domain.shards import SHARDS
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.rewards import RewardStore

ATTEMPTS = 5


def credit_milestones(user_id: str, now: datetime, deps: Deps) -> int:
    """Credit every cash milestone of a user recorded but not yet credited; returns how many."""
    store = deps.rewards
    credited = 0
    for cash in store.uncredited_cash(user_id):
        credit = partial(store.credit_milestone, user_id, cash.invitees, cash.cash_fen, now)
        if run_until_committed(credit, attempts=ATTEMPTS, what="this wallet"):
            credited += 1
    return credited


def team_bonus(now: datetime, deps: Deps) -> dict[str, Any]:
    """Accrue every partner's team bonus of the month that ended before ``now`` (Shanghai), once,
    into ``pending``; settlement makes it available after the hold (``payouts.team_bonus_available_at``).

    The partners of a month are those who held the tier during it, whatever their tier now: the
    ones the tier evaluation recorded as it went, and anyone still partner by an evaluation of
    that month (the month's first evaluation may not have run yet). Scheduled daily: the first
    run of a month accrues the month before and marks it done; later runs of that month see the
    mark and stop. A run interrupted midway is finished by the next one (each accrual is
    conditioned on that month not having accrued)."""
    store = deps.rewards
    month = previous_month(business_month(now))
    summary: dict[str, Any] = {"month": month, "partners": 0, "paid": 0, "paid_fen": 0, "already_paid": 0}
    if store.month_done(month):
        summary["skipped"] = "month already paid"
        return summary
    for user_id in partners_of(month, store, deps):
        summary["partners"] += 1
        try:
            _accrue_team_bonus(store, user_id, month, now, deps, summary)
        except Unavailable:  # too busy now: not marked done, so tomorrow's run accrues it
            summary["deferred"] = summary.get("deferred", 0) + 1
    if not summary.get("deferred"):
        store.mark_month_done(month, now)
    return summary


def partners_of(month: str, store: RewardStore, deps: Deps) -> list[str]:
    """Who held the partner tier during ``month``: partner by an evaluation of that month still
    (not re-evaluated since), or recorded on the month's roll. Read in that order: an evaluation
    records the roll before it stores a new month's tier, so one that runs between the two reads
    is seen by one of them."""
    current = [u.user_id for shard in SHARDS for u in deps.users.distributors(shard)
               if earns_team_bonus(u.tier) and u.tier_month == month]
    recorded = list(store.partners_of(month))
    return list(dict.fromkeys([*recorded, *current]))


def _accrue_team_bonus(store: RewardStore, user_id: str, month: str, now: datetime, deps: Deps,
                       summary: dict[str, Any]) -> None:
    """One partner's bonus of ``month``, unless accrued before; counted in ``summary``. Read,
    decide, commit: the accrual is conditioned on the sales read, so a refund committed meanwhile
    (or another run accruing first) makes it read again."""
    rate = deps.settings.rules.commission.team_bonus_bp
    available_at = team_bonus_available_at(month, deps.settings.rules.orders.settlement_hold_days)

    def step() -> str:
        sales = store.team_sales(user_id, month)
        bonus = team_bonus_fen(sales.sales_fen, rate)
        if sales.accrued:
            return "already_paid"
        if bonus <= 0:
            return "nothing"
        store.accrue_team_bonus(user_id, month, sales.sales_fen, bonus, rate, available_at, now)
        summary["paid_fen"] += bonus
        return "paid"

    outcome = run_until_committed(step, attempts=ATTEMPTS, what="this wallet")
    if outcome != "nothing":
        summary[outcome] += 1
