"""The referral tree: who may promote, who can be bound to whom, and who is paid.

Each member stores its parent and grandparent (so an order finds both payout levels in one
read) and the instants until which those links hold. Rules that hold for every binding:

* never to oneself, never to a non-distributor, never closing a loop;
* payouts reach level 1 and level 2 only (``Member.upline``): a third level is illegal.

The tree's pointers are structural (a lapsed binding still points); whether a link pays is a
question of time answered by ``Member.upline``. Loops are checked against the structure.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import (
    AlreadyBound,
    InviteCodeNotFound,
    NotAllowedToPromote,
    NotANewUser,
    ReferralCycle,
    SelfReferral,
    TeamTooLarge,
)
from chalicelib.domain.invariants import present

MAX_ANCESTOR_READS = 40  # each read climbs two levels: 80 levels is far beyond any real tree
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


class PromoterPolicy(StrEnum):
    EVERYONE = "everyone"
    ASSIGNED = "assigned"  # only users an admin has granted
    SPENDING = "spending"  # users whose own paid spending reached a threshold


class BindableUsers(StrEnum):
    NEW_ONLY = "new_only"  # users without a paid order (default)
    ANY_UNBOUND = "any_unbound"


class BindingDuration(StrEnum):
    PERMANENT = "permanent"
    DAYS = "days"  # valid for N days, then the user may be bound again
    LAST_CLICK = "last_click"  # every new invitation rebinds


@dataclass(frozen=True)
class BindingPolicy:
    promoters: PromoterPolicy = PromoterPolicy.EVERYONE
    promoter_min_spent_fen: int = 0
    bindable: BindableUsers = BindableUsers.NEW_ONLY
    duration: BindingDuration = BindingDuration.PERMANENT
    duration_days: int = 30


@dataclass(frozen=True)
class Upline:
    """Who an order pays: at most two levels."""

    level1: str | None = None
    level2: str | None = None


@dataclass(frozen=True)
class Member:
    """A user as the referral rules see them."""

    user_id: str
    parent_id: str | None = None
    grandparent_id: str | None = None
    bound_until: datetime | None = None  # of the link to the parent; None: permanent
    grandparent_until: datetime | None = None  # of the parent's link to the grandparent
    is_distributor: bool = False
    promoter_granted: bool = False
    paid_order_count: int = 0
    spent_fen: int = 0
    direct_count: int = 0
    team_count: int = 0

    def parent_link_holds(self, now: datetime) -> bool:
        return self.parent_id is not None and (self.bound_until is None or now < self.bound_until)

    def upline(self, now: datetime) -> Upline:
        if not self.parent_link_holds(now):
            return Upline()
        holds = self.grandparent_id is not None and (self.grandparent_until is None or now < self.grandparent_until)
        return Upline(self.parent_id, self.grandparent_id if holds else None)


def check_may_promote(member: Member, policy: BindingPolicy) -> None:
    """Raise unless the operator's rules let this member open a shop."""
    if policy.promoters is PromoterPolicy.ASSIGNED and not member.promoter_granted:
        raise NotAllowedToPromote("the operator assigns distributors; ask for an invitation")
    if policy.promoters is PromoterPolicy.SPENDING and member.spent_fen < policy.promoter_min_spent_fen \
            and not member.promoter_granted:
        raise NotAllowedToPromote("spend more to open a shop", needs_spent_fen=policy.promoter_min_spent_fen - member.spent_fen)


def needs_ancestor_walk(me: Member) -> bool:
    """A loop is only possible when the user being bound has a downline."""
    return me.direct_count > 0


def next_ancestor_to_read(chain: Sequence[Member]) -> str | None:
    """Given the inviter and the ancestors read so far (each two levels above the last), the next
    one to read, or None when the chain has reached its root."""
    if len(chain) >= MAX_ANCESTOR_READS:
        raise TeamTooLarge("the referral chain above the inviter is too deep to check")
    return chain[-1].grandparent_id


def chain_ids(chain: Sequence[Member]) -> list[str]:
    """Every id on the path from the inviter to the root, as far as ``chain`` reaches."""
    ids: list[str] = []
    for node in chain:
        ids += [i for i in (node.user_id, node.parent_id, node.grandparent_id) if i and i not in ids]
    return ids


@dataclass(frozen=True)
class BindingPlan:
    """What a binding changes; the store turns it into one transaction."""

    user_id: str
    parent_id: str
    grandparent_id: str | None
    bound_until: datetime | None
    grandparent_until: datetime | None
    unchanged: bool = False
    previous_parent_id: str | None = None
    previous_grandparent_id: str | None = None
    counter_deltas: dict[str, tuple[int, int]] = field(default_factory=dict)  # user -> (direct, team)


def plan_binding(me: Member, inviter: Member | None, chain: Sequence[Member], policy: BindingPolicy,
                 now: datetime) -> BindingPlan:
    """Decide a binding of ``me`` to ``inviter``.

    ``chain`` is the inviter followed by the ancestors read through ``next_ancestor_to_read``;
    it only needs to reach the root when ``needs_ancestor_walk(me)``.
    """
    if inviter is None or not inviter.is_distributor:
        raise InviteCodeNotFound("no distributor has this invite code")
    if inviter.user_id == me.user_id:
        raise SelfReferral("you cannot bind to your own invite code")
    if me.parent_link_holds(now):
        if me.parent_id == inviter.user_id:
            return _unchanged(me)
        if policy.duration is not BindingDuration.LAST_CLICK:
            raise AlreadyBound("already bound to a distributor", parent_id=me.parent_id)
    if policy.bindable is BindableUsers.NEW_ONLY and me.paid_order_count > 0:
        raise NotANewUser("only users without a paid order can be bound")
    if needs_ancestor_walk(me) and me.user_id in chain_ids(chain or [inviter]):
        raise ReferralCycle("the inviter is in your own downline")
    bound_until = now + timedelta(days=policy.duration_days) if policy.duration is BindingDuration.DAYS else None
    plan = BindingPlan(
        user_id=me.user_id,
        parent_id=inviter.user_id,
        grandparent_id=inviter.parent_id,
        bound_until=bound_until,
        grandparent_until=inviter.bound_until,
        previous_parent_id=me.parent_id,
        previous_grandparent_id=me.grandparent_id,
        counter_deltas=counter_deltas(me, inviter),
    )
    return plan


def _unchanged(me: Member) -> BindingPlan:
    return BindingPlan(me.user_id, present(me.parent_id, "a bound member's parent"), me.grandparent_id, me.bound_until,
                       me.grandparent_until, unchanged=True)


def counter_deltas(me: Member, inviter: Member) -> dict[str, tuple[int, int]]:
    """Direct and team (level 1 + level 2) count changes when ``me`` moves under ``inviter``.

    ``me``'s direct invitees move along and become the inviter's level 2.
    """
    deltas: dict[str, tuple[int, int]] = {}

    def add(user_id: str | None, direct: int, team: int) -> None:
        if user_id is None:
            return
        d, t = deltas.get(user_id, (0, 0))
        deltas[user_id] = (d + direct, t + team)

    add(me.parent_id, -1, -(1 + me.direct_count))
    add(me.grandparent_id, 0, -1)
    add(inviter.user_id, 1, 1 + me.direct_count)
    add(inviter.parent_id, 0, 1)
    return {user: delta for user, delta in deltas.items() if delta != (0, 0)}


def transaction_size(plan: BindingPlan, chain: Sequence[Member], children: int) -> int:
    """Items one binding writes or checks: the user, their direct invitees, the counters that
    move and the ancestors whose links the decision relied on."""
    touched = {plan.user_id, *plan.counter_deltas, *(m.user_id for m in chain)}
    return len(touched) + children


def check_fits_one_transaction(plan: BindingPlan, chain: Sequence[Member], children: int) -> None:
    if transaction_size(plan, chain, children) > MAX_TRANSACTION_ITEMS:
        raise TeamTooLarge("this user's downline is too large to move in one binding", direct_count=children)
