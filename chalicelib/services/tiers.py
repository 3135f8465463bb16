"""Tier evaluation and the invitation ladder (scheduled daily as ``evaluate_tiers``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.payouts import partner_months
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.tiers import Tier
from chalicelib.domain.users import User

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass
class TierRun:
    evaluated: int = 0
    upgraded: int = 0
    downgraded: int = 0
    milestones_recorded: int = 0
    cash_credited: int = 0
    changes: list[dict[str, str]] = field(default_factory=list)


def evaluate_tiers(now: datetime, deps: Deps) -> TierRun:
    """Re-decide every distributor's tier and record invitation milestones reached.

    Idempotent: run twice or late, it decides the same tiers and records each milestone once."""
    run = TierRun()
    for shard in SHARDS:
        for user in deps.users.distributors(shard):
            evaluate_one(user, now, deps, run)
    return run


def evaluate_one(user: User, now: datetime, deps: Deps, run: TierRun) -> None:
    rules = deps.settings.rules.tier_rules()
    month = business_month(now)
    new_month = user.tier_month != month
    last_month = user.tier_stats(previous_month(month)) if new_month else None
    tier = rules.evaluate(user.tier, user.tier_stats(month), last_month)
    run.evaluated += 1
    if tier != user.tier or new_month:
        _record_partner_months(user, tier, month, now, deps)
        if deps.users.set_tier(user.user_id, tier, month, expected=user.tier):
            _count_change(user, tier, run)
    for milestone in deps.settings.rules.ladder().reached(user.qualified_invitees):
        if deps.users.record_milestone(user.user_id, milestone, now):
            run.milestones_recorded += 1
    if any(m.cash_fen for m in deps.settings.rules.ladder().reached(user.qualified_invitees)):
        from chalicelib.services.rewards import credit_milestones

        run.cash_credited += credit_milestones(user.user_id, now, deps)


def _record_partner_months(user: User, tier: Tier, month: str, now: datetime, deps: Deps) -> None:
    """Before a tier decision is stored: record the months it shows ``user`` held the partner
    tier in (the month the tier being left was decided in, and this month if partner now), so the
    team bonus is paid for the tier held during a month, however the month-end evaluation and
    the bonus job interleave. Before, not after: a run dying in between records again next time.
    """
    for held in partner_months(user.tier, user.tier_month, tier, month):
        deps.rewards.record_partner(user.user_id, held, now)


def _count_change(user: User, tier: Tier, run: TierRun) -> None:
    if tier.rank > user.tier.rank:
        run.upgraded += 1
    elif tier.rank < user.tier.rank:
        run.downgraded += 1
    if tier != user.tier:
        run.changes.append({"user_id": user.user_id, "from": user.tier.value, "to": tier.value})
