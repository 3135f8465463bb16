"""The month change of the distributors' tiers (the ``evaluate_tiers`` job, daily at 00:05).

Upgrades and invitation milestones are not this job's: they are decided in the transactions that
move the figures (payments, bindings, completions; ``domain/tier_moves.py``). What is left is the
month change: under ``month_end`` a distributor above the base tier is re-decided from the month
that ended (downgrade or keep); under ``never`` the tier is kept. Either way the decision is
stored for the new month (a partner kept is put on the new month's roll for the team bonus).

The work is 16 parts, one per shard of the sparse index ``above_base`` (distributors above the
base tier, ordered by the month their tier was decided in). A part reads a page of those decided
before this month, decides each through the domain and writes only the distributors it re-decides
(one conditioned write each), which leaves the range it read: every later run of the month reads
16 empty pages. Base-tier distributors are never read (their tier does not depend on last month).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_month
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.domain.tier_moves import TierChange, at_month_change
from chalicelib.domain.users import User
from chalicelib.services.retry import Reads, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline

PAGE = 100  # distributors a page: one Query of keys and one BatchGetItem (its limit: 100 keys)
ATTEMPTS = 5


def month_change_parts(now: datetime, deps: Deps) -> list[str]:
    """The parts of a run: ``<month>#<shard>`` for the 16 shards (no read)."""
    month = business_month(now)
    return [f"{month}#{shard}" for shard in SHARDS]


def parse_part(part: str) -> tuple[str, str]:
    """``<YYYY-MM>#<shard>`` → (month, shard); ValueError for anything else."""
    month, _, shard = part.partition("#")
    year, _, mon = month.partition("-")
    if not (len(year) == 4 and year.isdigit() and len(mon) == 2 and mon.isdigit() and 1 <= int(mon) <= 12
            and shard in SHARDS):
        raise ValueError(f"not a part of a monthly job: {part!r}")
    return month, shard


def change_month_part(part: str, cursor: str | None, now: datetime, deps: Deps,
                      deadline: Deadline) -> Progress:
    """One slice of a part: pages of the shard's distributors awaiting the month change, each
    re-decided and written, until the shard is done (cursor None) or ``deadline.expired()`` after a page.
    Idempotent: a distributor re-decided before is no longer in the range, or is found decided
    (the index lagging) and left as it is."""
    month, shard = parse_part(part)
    counts: Counter[str] = Counter(evaluated=0, kept=0, downgraded=0)
    while True:
        users, cursor = deps.users.awaiting_month_change(shard, month, cursor, PAGE)
        for user in users:
            counts["evaluated"] += 1
            counts[change_month(user, month, now, deps)] += 1
        if cursor is None or deadline.expired():
            return Progress(dict(counts), cursor)


def change_month(user: User, month: str, now: datetime, deps: Deps) -> str:
    """Re-decide one distributor for ``month`` and store it, conditioned on what was read (a
    concurrent payment or binding makes it read that distributor again, and only them). Returns
    what happened: ``downgraded``, ``kept``, ``already`` (decided for the month meanwhile) or
    ``deferred`` (still contended after the attempts: the next run finds them in the range)."""
    rules = deps.rules.tier_rules()
    read = Reads[User | None](user, lambda: deps.users.get(user.user_id))

    def step() -> TierChange | None:
        current = read()
        change = at_month_change(rules, current, month) if current else None
        if change is not None:
            deps.users.store_tier(change, now)
        return change

    try:
        change = run_until_committed(step, attempts=ATTEMPTS, what="this distributor")
    except Unavailable:
        return "deferred"
    if change is None:
        return "already"
    return "downgraded" if change.downgraded else "kept"
