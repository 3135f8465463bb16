"""Binding a user to the distributor whose invitation they followed, and the team view."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.binding import (
    BindingPlan,
    Member,
    chain_ids,
    check_fits_one_transaction,
    needs_ancestor_walk,
    next_ancestor_to_read,
    plan_binding,
)
from chalicelib.domain.clock import business_month
from chalicelib.domain.errors import InviteCodeNotFound, NotFound
from chalicelib.domain.invite_codes import looks_like_invite_code, normalise_invite_code
from chalicelib.domain.tier_moves import TierMove, UpgradeDue, on_figures
from chalicelib.domain.tiers import Tier, TierStats
from chalicelib.domain.users import User
from chalicelib.services import facts
from chalicelib.services.retry import ReadAgain, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

MAX_ATTEMPTS = 10


def bind(user_id: str, invite_code: str, deps: Deps) -> BindingPlan:
    """Bind the user under the owner of ``invite_code``, exactly once under concurrency.

    Each attempt reads, decides through the domain and commits one conditional transaction;
    when a concurrent change invalidates what was read, it reads again and decides again (so a
    lost race ends in the loser's proper refusal, e.g. ALREADY_BOUND)."""
    code = normalise_invite_code(invite_code)
    if not looks_like_invite_code(code):
        raise InviteCodeNotFound("no distributor has this invite code")
    policy = deps.rules.binding.policy()
    to_read: set[str] = set()  # distributors a guard refused: read and decided from then on

    def step() -> BindingPlan:
        me, inviter = deps.users.get_with_invite(user_id, code)
        if me is None:
            raise NotFound("no such user; log in again")
        now = deps.clock()
        chain = _climb(me.member, inviter.member, deps) if inviter else []
        plan = plan_binding(me.member, inviter.member if inviter else None, chain, policy, now)
        if plan.unchanged:
            return plan
        children = deps.users.direct_downline_ids(user_id) if me.member.direct_count else []
        if len(children) != me.member.direct_count:
            raise ReadAgain("the downline index lags a fresh binding")
        check_fits_one_transaction(plan, chain, len(children))
        try:
            deps.users.commit_binding(plan, me.member, chain, children, now,
                                      _tier_moves(plan, inviter, to_read, now, deps))
        except UpgradeDue as due:
            to_read.update(due.user_ids)
            raise
        facts.user_bound(deps, user_id, plan.parent_id, now)
        return plan

    return run_until_committed(step, attempts=MAX_ATTEMPTS, what="this part of the tree")


def _tier_moves(plan: BindingPlan, inviter: User | None, to_read: set[str], now: datetime, deps: Deps
                ) -> dict[str, TierMove | None]:
    """The tier move of each distributor whose counts the binding changes: decided on the
    inviter as read (and on those a guard refused before, read now); the inviter's own parent,
    whose team grows by one, moves under the upgrade guard without a read."""
    rules, month = deps.rules.tier_rules(), business_month(now)
    read = {inviter.user_id: inviter} if inviter else {}
    missing = [u for u in plan.counter_deltas if u in to_read and u not in read]
    read |= deps.users.get_many(missing) if missing else {}
    return {user_id: on_figures(rules, user_id, read.get(user_id), TierStats(direct, team, 0), month)
            for user_id, (direct, team) in plan.counter_deltas.items()}


def _climb(me: Member, inviter: Member, deps: Deps) -> list[Member]:
    """The inviter and, when a loop is possible, its ancestors up to the root, two levels a read."""
    chain = [inviter]
    if not needs_ancestor_walk(me):
        return chain
    while me.user_id not in chain_ids(chain):
        next_id = next_ancestor_to_read(chain)
        ancestor = deps.users.get_member(next_id) if next_id else None
        if ancestor is None:
            break
        chain.append(ancestor)
    return chain


@dataclass(frozen=True)
class TeamView:
    user: User
    month: str
    month_sales_fen: int
    next_tier: tuple[Tier, dict[str, int]] | None
    direct: list[User]  # the page of members of ``level``
    next_cursor: str | None
    level: int = 1
    spent: dict[str, int] = field(default_factory=dict)  # each member's own spending of ``month``


def team(user_id: str, limit: int, cursor: str | None, deps: Deps, level: int = 1) -> TeamView:
    """The distributor's counters, progress to the next tier and a page of their members of
    ``level`` (1: direct invitees; 2: the invitees of those), each with what they bought this
    Shanghai month (a counter per member and month: one BatchGetItem for the page)."""
    user = deps.users.get(user_id, consistent=False)
    if user is None:
        raise NotFound("no such user; log in again")
    month = business_month(deps.clock())
    page = deps.users.direct_downline if level == 1 else deps.users.second_level
    members, next_cursor = page(user_id, limit, cursor)
    stats = user.tier_stats(month)
    return TeamView(user, month, stats.month_sales_fen, deps.rules.tier_rules().next_tier(user.tier, stats),
                    members, next_cursor, level, deps.users.month_spent([m.user_id for m in members], month))
