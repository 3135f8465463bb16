"""Property: random bindings over random forests, applied as the binding service applies them,
never break the tree (no loops, consistent pointers, two paid levels, exact counters)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.binding import (
    BindableUsers,
    BindingDuration,
    BindingPlan,
    BindingPolicy,
    Member,
    chain_ids,
    check_fits_one_transaction,
    needs_ancestor_walk,
    next_ancestor_to_read,
    plan_binding,
)
from chalicelib.domain.errors import (
    AlreadyBound,
    DomainError,
    InviteCodeNotFound,
    NotANewUser,
    ReferralCycle,
    SelfReferral,
    TeamTooLarge,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
DOCUMENTED = (InviteCodeNotFound, SelfReferral, AlreadyBound, NotANewUser, ReferralCycle, TeamTooLarge)


@st.composite
def forests(draw: st.DrawFn) -> tuple[dict[str, Member], BindingPolicy]:
    n = draw(st.integers(3, 25))
    users = {uid: Member(uid, is_distributor=draw(st.sampled_from([True, True, True, False])),
                         paid_order_count=draw(st.sampled_from([0, 0, 0, 1])))
             for uid in (f"u{i:02d}" for i in range(n))}
    policy = BindingPolicy(bindable=draw(st.sampled_from(BindableUsers)), duration=draw(st.sampled_from(BindingDuration)),
                           duration_days=draw(st.integers(1, 10)))
    return users, policy


def downline(uid: str, users: dict[str, Member]) -> list[str]:
    """Everyone below ``uid``, however deep."""
    below, frontier = [], [uid]
    while frontier:
        frontier = [other for other, m in users.items() if m.parent_id in frontier]
        below += frontier
    return below


def climb(me: Member, inviter: Member, users: dict[str, Member]) -> list[Member]:
    """As services/referrals.py: the inviter, then ancestors two levels a read while a loop is possible."""
    chain = [inviter]
    if not needs_ancestor_walk(me):
        return chain
    while me.user_id not in chain_ids(chain):
        next_id = next_ancestor_to_read(chain)
        ancestor = users.get(next_id) if next_id else None
        if ancestor is None:
            break
        chain.append(ancestor)
    return chain


def apply(plan: BindingPlan, users: dict[str, Member]) -> None:
    """As the store's binding transaction."""
    me = users[plan.user_id]
    users[me.user_id] = replace(me, parent_id=plan.parent_id, grandparent_id=plan.grandparent_id,
                                bound_until=plan.bound_until, grandparent_until=plan.grandparent_until)
    for uid, member in list(users.items()):
        if member.parent_id == me.user_id:
            users[uid] = replace(member, grandparent_id=plan.parent_id, grandparent_until=plan.bound_until)
    for uid, (direct, team) in plan.counter_deltas.items():
        member = users[uid]
        users[uid] = replace(member, direct_count=member.direct_count + direct, team_count=member.team_count + team)


def ancestors(uid: str, users: dict[str, Member]) -> list[str]:
    """Parent pointers from ``uid`` upwards; asserts no user is visited twice."""
    seen = [uid]
    parent = users[uid].parent_id
    while parent is not None:
        assert parent not in seen, f"loop through {parent}: {seen}"
        seen.append(parent)
        parent = users[parent].parent_id
    return seen[1:]


def check_tree(users: dict[str, Member], now: datetime) -> None:
    children: dict[str, list[str]] = {uid: [] for uid in users}
    for member in users.values():
        ancestors(member.user_id, users)  # (a) no loops
        if member.parent_id is not None:
            children[member.parent_id].append(member.user_id)
            parent = users[member.parent_id]
            # (b) the stored grandparent (and its link's expiry) is the parent's parent
            assert member.grandparent_id == parent.parent_id
            assert member.grandparent_until == parent.bound_until
        else:
            assert member.grandparent_id is None
    for uid, member in users.items():
        up = member.upline(now)  # (c) two distinct levels at most, never oneself
        paid = [p for p in (up.level1, up.level2) if p is not None]
        assert len(paid) == len(set(paid)) <= 2 and uid not in paid
        assert up.level2 is None or up.level1 is not None
        assert up.level1 is None or up.level1 == member.parent_id
        assert up.level2 is None or up.level2 == member.grandparent_id
        # a link pays until it lapses, and my level 2 is exactly whom my parent pays as level 1
        holds = member.parent_id is not None and (member.bound_until is None or now < member.bound_until)
        assert up.level1 == (member.parent_id if holds else None)
        assert up.level2 == (users[up.level1].upline(now).level1 if up.level1 else None)
        direct = len(children[uid])  # (d) counters as recomputed from the pointers
        assert (member.direct_count, member.team_count) == (direct, direct + sum(len(children[c]) for c in children[uid]))


@settings(max_examples=200, deadline=None)
@given(forests(), st.data())
def test_random_bindings_keep_the_referral_tree_loop_free_consistent_and_counted(forest, data):
    users, policy = forest
    ids = sorted(users)
    now = START
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        now += timedelta(minutes=data.draw(st.integers(0, 14 * 24 * 60), label="minutes"))
        me_id = data.draw(st.sampled_from(ids), label="me")
        below = downline(me_id, users)  # half the time, try an inviter from my own downline
        inviter_id = data.draw(st.sampled_from(below) if below and data.draw(st.booleans()) else st.sampled_from(ids),
                               label="inviter")
        me, inviter = users[me_id], users[inviter_id]
        inviter_below_me = inviter_id in below
        try:
            chain = climb(me, inviter, users)
            plan = plan_binding(me, inviter, chain, policy, now)
            if not plan.unchanged:
                check_fits_one_transaction(plan, chain, me.direct_count)
                apply(plan, users)
        except DomainError as refused:
            assert isinstance(refused, DOCUMENTED), refused  # (e)
            event(f"refused {refused.code}")
            assert not isinstance(refused, ReferralCycle) or inviter_below_me
        else:
            event("unchanged" if plan.unchanged else "rebound" if plan.previous_parent_id else "bound")
            assert not inviter_below_me, "a binding under one's own downline was accepted"
        check_tree(users, now)
