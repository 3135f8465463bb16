"""The referral tree's rules (chalicelib/domain/binding.py), one rule a test."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.binding import (
    MAX_ANCESTOR_READS,
    MAX_TRANSACTION_ITEMS,
    BindableUsers,
    BindingDuration,
    BindingPlan,
    BindingPolicy,
    Member,
    PromoterPolicy,
    Upline,
    chain_ids,
    check_fits_one_transaction,
    check_may_promote,
    counter_deltas,
    needs_ancestor_walk,
    next_ancestor_to_read,
    plan_binding,
)
from chalicelib.domain.errors import (
    AlreadyBound,
    InviteCodeNotFound,
    NotAllowedToPromote,
    NotANewUser,
    ReferralCycle,
    SelfReferral,
    TeamTooLarge,
)

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
DEFAULT = BindingPolicy()
LAST_CLICK = BindingPolicy(duration=BindingDuration.LAST_CLICK)
WEEK = BindingPolicy(duration=BindingDuration.DAYS, duration_days=7)


def dist(user_id: str, **fields: object) -> Member:
    return Member(user_id, is_distributor=True, **fields)  # type: ignore[arg-type]


def plan(me: Member, inviter: Member | None, policy: BindingPolicy = DEFAULT, chain: list[Member] | None = None,
         now: datetime = NOW) -> BindingPlan:
    return plan_binding(me, inviter, chain if chain is not None else ([inviter] if inviter else []), policy, now)


# plan_binding: refusals


@pytest.mark.parametrize("inviter", [None, Member("bob")], ids=["unknown-code", "not-a-distributor"])
def test_binding_refuses_an_invite_code_that_names_no_distributor(inviter):
    with pytest.raises(InviteCodeNotFound) as refused:
        plan(Member("me"), inviter)
    assert refused.value.code == "INVITE_CODE_NOT_FOUND"


def test_binding_refuses_a_distributor_following_their_own_invite_code():
    with pytest.raises(SelfReferral) as refused:
        plan(dist("me"), dist("me"))
    assert refused.value.code == "SELF_REFERRAL"


@pytest.mark.parametrize("policy", [DEFAULT, WEEK], ids=["permanent", "days-still-running"])
def test_binding_refuses_a_user_already_bound_to_another_distributor(policy):
    me = Member("me", parent_id="alice", bound_until=NOW + timedelta(seconds=1) if policy is WEEK else None)
    with pytest.raises(AlreadyBound) as refused:
        plan(me, dist("bob"), policy)
    assert refused.value.code == "ALREADY_BOUND" and refused.value.details == {"parent_id": "alice"}


@pytest.mark.parametrize("policy", [DEFAULT, WEEK, LAST_CLICK], ids=lambda p: p.duration.value)
def test_binding_to_the_same_inviter_again_changes_nothing(policy):
    me = Member("me", parent_id="alice", grandparent_id="root", paid_order_count=3)
    result = plan(me, dist("alice", parent_id="root"), policy)
    assert result.unchanged and result.counter_deltas == {}
    assert (result.parent_id, result.grandparent_id, result.bound_until) == ("alice", "root", None)


def test_binding_refuses_a_user_with_a_paid_order_under_the_new_only_rule():
    with pytest.raises(NotANewUser) as refused:
        plan(Member("me", paid_order_count=1), dist("alice"))
    assert refused.value.code == "NOT_A_NEW_USER"


def test_binding_accepts_a_user_with_a_paid_order_under_the_any_unbound_rule():
    result = plan(Member("me", paid_order_count=5), dist("alice"), BindingPolicy(bindable=BindableUsers.ANY_UNBOUND))
    assert result.parent_id == "alice" and not result.unchanged


def test_binding_refuses_an_inviter_who_is_the_users_own_direct_invitee():
    me = dist("me", direct_count=1, team_count=1)
    child = dist("child", parent_id="me")
    with pytest.raises(ReferralCycle) as refused:
        plan(me, child)
    assert refused.value.code == "REFERRAL_CYCLE"


def test_binding_refuses_an_inviter_deep_in_the_users_downline_found_by_the_ancestor_walk():
    # me <- b <- c <- d <- e: the chain climbs two levels a read from the inviter e
    me = dist("me", direct_count=1, team_count=2)
    e = dist("e", parent_id="d", grandparent_id="c")
    c = dist("c", parent_id="b", grandparent_id="me")
    assert "me" not in chain_ids([e]) and next_ancestor_to_read([e]) == "c"
    with pytest.raises(ReferralCycle):
        plan(me, e, LAST_CLICK, chain=[e, c])


def test_a_user_without_invitees_needs_no_ancestor_walk_and_is_never_a_cycle():
    me = dist("me")
    assert not needs_ancestor_walk(me) and needs_ancestor_walk(dist("me", direct_count=1))
    # even a chain that (impossibly) names me is not consulted when I have no downline
    result = plan(me, dist("alice", parent_id="me"), chain=[dist("alice", parent_id="me")])
    assert result.parent_id == "alice"


# plan_binding: what a binding changes


def test_a_new_binding_takes_the_inviters_parent_as_grandparent_with_the_inviters_expiry():
    until = NOW + timedelta(days=3)
    result = plan(Member("me"), dist("alice", parent_id="root", bound_until=until))
    assert (result.parent_id, result.grandparent_id, result.grandparent_until) == ("alice", "root", until)
    assert result.bound_until is None and result.previous_parent_id is None
    assert result.counter_deltas == {"alice": (1, 1), "root": (0, 1)}


def test_last_click_rebinds_a_bound_user_to_the_newest_inviter():
    me = Member("me", parent_id="alice", grandparent_id="root", direct_count=2, team_count=2)
    result = plan(me, dist("bob"), LAST_CLICK, chain=[dist("bob")])
    assert (result.parent_id, result.previous_parent_id, result.previous_grandparent_id) == ("bob", "alice", "root")
    assert result.counter_deltas == {"alice": (-1, -3), "root": (0, -1), "bob": (1, 3)}


def test_a_days_binding_lasts_until_now_plus_the_configured_days():
    assert plan(Member("me"), dist("alice"), WEEK).bound_until == NOW + timedelta(days=7)


@pytest.mark.parametrize("lapsed_by", [timedelta(0), timedelta(days=1)], ids=["exactly-at-expiry", "a-day-after"])
def test_a_lapsed_days_binding_can_be_rebound_to_another_inviter(lapsed_by):
    me = Member("me", parent_id="alice", bound_until=NOW - lapsed_by)
    result = plan(me, dist("bob"), WEEK)
    assert result.parent_id == "bob" and result.bound_until == NOW + timedelta(days=7)


def test_a_lapsed_binding_renewed_with_the_same_inviter_moves_no_counters():
    me = Member("me", parent_id="alice", grandparent_id="root", bound_until=NOW, direct_count=4)
    result = plan(me, dist("alice", parent_id="root"), WEEK)
    assert not result.unchanged and result.counter_deltas == {} and result.bound_until == NOW + timedelta(days=7)


# Member.upline: two levels at most, each link with its own expiry


def test_an_unbound_user_pays_nobody():
    assert Member("me").upline(NOW) == Upline()


def test_a_permanently_bound_user_pays_parent_and_grandparent():
    assert Member("me", parent_id="p", grandparent_id="g").upline(NOW) == Upline("p", "g")


def test_a_user_under_a_root_distributor_pays_level_one_only():
    assert Member("me", parent_id="p").upline(NOW) == Upline("p", None)


def test_an_expired_grandparent_link_stops_level_two_but_not_level_one():
    me = Member("me", parent_id="p", grandparent_id="g", grandparent_until=NOW)
    assert me.upline(NOW) == Upline("p", None)
    assert me.upline(NOW - timedelta(seconds=1)) == Upline("p", "g")


def test_an_expired_parent_link_stops_both_levels_even_when_the_grandparent_link_holds():
    me = Member("me", parent_id="p", grandparent_id="g", bound_until=NOW)
    assert me.upline(NOW) == Upline() and not me.parent_link_holds(NOW)
    assert me.upline(NOW - timedelta(seconds=1)) == Upline("p", "g")


# check_may_promote


@pytest.mark.parametrize(("policy", "member"), [
    (BindingPolicy(), Member("u")),
    (BindingPolicy(promoters=PromoterPolicy.ASSIGNED), Member("u", promoter_granted=True)),
    (BindingPolicy(promoters=PromoterPolicy.SPENDING, promoter_min_spent_fen=10_000), Member("u", spent_fen=10_000)),
    (BindingPolicy(promoters=PromoterPolicy.SPENDING, promoter_min_spent_fen=10_000), Member("u", promoter_granted=True)),
], ids=["everyone", "assigned-and-granted", "spent-exactly-the-threshold", "granted-below-threshold"])
def test_the_operators_promoter_policy_lets_these_users_open_a_shop(policy, member):
    check_may_promote(member, policy)


def test_only_assigned_users_may_promote_under_the_assigned_policy():
    with pytest.raises(NotAllowedToPromote):
        check_may_promote(Member("u", spent_fen=10**9), BindingPolicy(promoters=PromoterPolicy.ASSIGNED))


def test_a_user_below_the_spending_threshold_is_told_how_much_more_to_spend():
    policy = BindingPolicy(promoters=PromoterPolicy.SPENDING, promoter_min_spent_fen=10_000)
    with pytest.raises(NotAllowedToPromote) as refused:
        check_may_promote(Member("u", spent_fen=9_999), policy)
    assert refused.value.details == {"needs_spent_fen": 1}


# counter_deltas


def test_a_new_user_under_a_root_distributor_adds_one_direct_and_one_team_member():
    assert counter_deltas(Member("me"), dist("alice")) == {"alice": (1, 1)}


def test_moving_a_user_with_invitees_takes_their_invitees_along_as_level_two():
    me = Member("me", parent_id="p", grandparent_id="g", direct_count=3, team_count=7)
    assert counter_deltas(me, dist("i", parent_id="j")) == {"p": (-1, -4), "g": (0, -1), "i": (1, 4), "j": (0, 1)}


def test_moving_a_user_up_to_their_grandparent_nets_the_grandparents_counters():
    me = Member("me", parent_id="p", grandparent_id="g", direct_count=2)
    assert counter_deltas(me, dist("g", parent_id="top")) == {"p": (-1, -3), "g": (1, 2), "top": (0, 1)}


def test_moving_a_user_to_a_sibling_keeps_their_old_parents_direct_level_two_count():
    me = Member("me", parent_id="p", direct_count=2)
    assert counter_deltas(me, dist("sibling", parent_id="p")) == {"p": (-1, -2), "sibling": (1, 3)}


# the ancestor walk


def test_the_next_ancestor_to_read_is_two_levels_above_the_last_one_read():
    assert next_ancestor_to_read([dist("i", parent_id="p", grandparent_id="g")]) == "g"
    assert next_ancestor_to_read([dist("i", parent_id="p")]) is None


def test_an_ancestor_chain_too_deep_to_check_is_refused():
    chain = [dist(f"a{n}", parent_id=f"a{n + 1}", grandparent_id=f"a{n + 2}") for n in range(0, 2 * MAX_ANCESTOR_READS, 2)]
    next_ancestor_to_read(chain[:MAX_ANCESTOR_READS - 1])
    with pytest.raises(TeamTooLarge):
        next_ancestor_to_read(chain[:MAX_ANCESTOR_READS])


def test_chain_ids_lists_the_path_to_the_root_once_each_in_order():
    chain = [dist("i", parent_id="p", grandparent_id="g"), dist("g", parent_id="h", grandparent_id="r"), dist("r")]
    assert chain_ids(chain) == ["i", "p", "g", "h", "r"]


# transaction size


def _plan_touching(n_counters: int) -> BindingPlan:
    deltas = {f"c{n}": (0, 1) for n in range(n_counters)}
    return BindingPlan("me", "c0", None, None, None, counter_deltas=deltas)


def test_a_binding_that_fits_one_transaction_passes_at_exactly_the_limit():
    # me + c0 + c1 (c0 is also the chain) = 3 distinct items, plus the direct invitees
    check_fits_one_transaction(_plan_touching(2), [dist("c0")], MAX_TRANSACTION_ITEMS - 3)


def test_a_binding_past_one_transaction_is_refused_as_team_too_large():
    with pytest.raises(TeamTooLarge) as refused:
        check_fits_one_transaction(_plan_touching(2), [dist("c0")], MAX_TRANSACTION_ITEMS - 2)
    assert refused.value.code == "TEAM_TOO_LARGE" and refused.value.details == {"direct_count": 98}
