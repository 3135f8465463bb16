"""The partners' monthly team bonus (the ``team_bonus`` job, daily at 00:30), exactly once: see
``store/rewards.py``. (Invitation-milestone cash is credited in the transaction that counts the
invitee reaching the milestone: ``store/rewards.count_invitee``.)

The work is one part per shard of the month's partner roll (``partners#<YYYY-MM>#<shard>``,
written in the transaction of each tier decision that shows a partner in a month). A part reads
the roll a page at a time with the page's team sales in one BatchGetItem and accrues each
partner's bonus in one conditioned transaction; a partner whose accrual loses a race is read
again alone. A shard whose partners all accrued is marked done, and the month once every shard
is (``finish``): later runs of the month plan nothing (one GetItem), and a run after a partner
was deferred (too busy) plans only the shards not done.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.payouts import team_bonus_available_at, team_bonus_fen
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.services.retry import Reads, run_until_committed
from chalicelib.services.tiers import parse_part

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.rewards import TeamSales

ATTEMPTS = 5
PAGE = 100  # partners a page: one Query of the roll and one BatchGetItem of their team sales


def bonus_month(now: datetime) -> str:
    """The month a run at ``now`` pays: the one that ended before it (Shanghai)."""
    return previous_month(business_month(now))


def team_bonus_parts(now: datetime, deps: Deps) -> list[str]:
    """The shards of the month's roll still to pay: none once the month is marked done (one
    GetItem), else the shards without their done mark (one Query)."""
    month = bonus_month(now)
    if deps.rewards.month_done(month):
        return []
    done = deps.rewards.shards_done(month)
    return [f"{month}#{shard}" for shard in SHARDS if shard not in done]


def team_bonus_part(part: str, cursor: str | None, now: datetime, deps: Deps,
                    deadline: Deadline) -> Progress:
    """One slice of a shard: pages of its partners, each accrued once, until the shard is done
    or ``deadline.expired()`` after a page. The cursor carries the roll's position and whether a partner
    of the shard was deferred in an earlier slice; a shard ends marked done only when none was.
    Idempotent: an accrued partner is seen accrued (``already_paid``) and left."""
    month, shard = parse_part(part)
    position, deferred = _decode(cursor)
    counts: Counter[str] = Counter()
    while True:
        partners, position = deps.rewards.partners_page(month, shard, position, PAGE)
        sales = deps.rewards.team_sales_of(partners, month)
        for user_id in partners:
            counts["partners"] += 1
            outcome, fen = accrue(user_id, month, sales[user_id], now, deps)
            counts[outcome] += 1
            counts["paid_fen"] += fen
        deferred = deferred or counts["deferred"] > 0
        if position is None:
            if not deferred:
                deps.rewards.mark_shard_done(month, shard, now)
            return Progress(_counts(counts))
        if deadline.expired():
            return Progress(_counts(counts), json.dumps({"after": position, "deferred": deferred}))


def finish_team_bonus(now: datetime, deps: Deps, counts: dict[str, int]) -> dict[str, Any]:
    """After every part of a run: the month is marked done when every shard is (no partner
    deferred, in this run or an earlier one). Names the month; says so when nothing was left."""
    month = bonus_month(now)
    summary: dict[str, Any] = {"month": month}
    for key in ("partners", "paid", "paid_fen", "already_paid"):
        summary[key] = counts.get(key, 0)
    if deps.rewards.month_done(month):
        summary["skipped"] = "month already paid"
    elif not counts.get("deferred") and deps.rewards.shards_done(month) >= set(SHARDS):
        deps.rewards.mark_month_done(month, now)
    return summary


def accrue(user_id: str, month: str, sales_read: TeamSales, now: datetime, deps: Deps) -> tuple[str, int]:
    """One partner's bonus of ``month``, unless accrued before: (``paid`` | ``already_paid`` |
    ``nothing`` | ``deferred``, fen accrued). Read, decide, commit: the accrual is conditioned on
    the sales read (the page's batch read first, then this partner alone), so a refund committed
    meanwhile (or another run accruing first) makes it read again."""
    store = deps.rewards
    rate = deps.rules.commission.team_bonus_bp
    available_at = team_bonus_available_at(month, deps.rules.orders.settlement_hold_days)
    read = Reads(sales_read, lambda: store.team_sales(user_id, month))

    def step() -> tuple[str, int]:
        sales = read()
        bonus = team_bonus_fen(sales.sales_fen, rate)
        if sales.accrued:
            return "already_paid", 0
        if bonus <= 0:
            return "nothing", 0
        store.accrue_team_bonus(user_id, month, sales.sales_fen, bonus, rate, available_at, now)
        return "paid", bonus

    try:
        return run_until_committed(step, attempts=ATTEMPTS, what="this wallet")
    except Unavailable:  # too busy now: the shard is not marked done, so tomorrow's run accrues it
        return "deferred", 0


def _decode(cursor: str | None) -> tuple[str | None, bool]:
    """A slice's cursor: (the roll's position, a partner deferred before); ValueError if it is
    not one this job wrote."""
    if cursor is None:
        return None, False
    value = json.loads(cursor)
    if not (isinstance(value, dict) and isinstance(value.get("after"), str) and isinstance(value.get("deferred"), bool)):
        raise ValueError(f"not a team-bonus cursor: {cursor!r}")
    return value["after"], value["deferred"]


def _counts(counts: Counter[str]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if key != "nothing"}
