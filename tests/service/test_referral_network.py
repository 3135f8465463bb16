"""Use cases of the referral network against moto-backed tables."""
from __future__ import annotations

import itertools

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import BindingRules, Rules
from chalicelib.domain.binding import BindingDuration, PromoterPolicy
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import (
    AlreadyBound,
    AlreadyDistributor,
    ContentBlocked,
    InviteCodeNotFound,
    NotAllowedToPromote,
    NotANewUser,
    ReferralCycle,
    SelfReferral,
)
from chalicelib.domain.tiers import Tier
from chalicelib.jobs import run_job
from chalicelib.services import auth, referrals, shops


def user(deps: Deps, name: str) -> str:
    return auth.login(f"dev:{name}", deps).user.user_id


def distributor(deps: Deps, name: str) -> tuple[str, str]:
    user_id = user(deps, name)
    shop = shops.open_shop(user_id, f"{name}'s shop", deps)
    assert shop.invite_code
    return user_id, shop.invite_code


def with_rules(deps: Deps, **binding: object) -> None:
    rules = Rules(binding=BindingRules(**binding))  # type: ignore[arg-type]
    deps.settings = deps.settings.model_copy(update={"rules": rules})


def test_first_login_creates_the_user_and_the_second_finds_them(deps):
    first = auth.login("dev:alice", deps)
    second = auth.login("dev:alice", deps)
    assert first.new_user and not second.new_user
    assert first.user.user_id == second.user.user_id and second.user.nickname == "alice"
    assert first.role == "user" and auth.login("dev:admin", deps).role == "admin"


def test_opening_a_shop_gives_a_unique_invite_code_once(deps):
    alice, code = distributor(deps, "alice")
    with pytest.raises(AlreadyDistributor):
        shops.open_shop(alice, "again", deps)
    assert deps.users.get(alice).invite_code == code


def test_a_shop_name_with_forbidden_wording_is_refused_and_nothing_changes(deps):
    alice = user(deps, "alice")
    with pytest.raises(ContentBlocked) as refused:
        shops.open_shop(alice, "躺赚小店", deps)
    assert refused.value.details["hits"][0]["suggestion"] == "分享奖励"
    assert deps.users.get(alice).invite_code is None


def test_under_the_assigned_policy_only_granted_users_open_a_shop(deps):
    with_rules(deps, promoters=PromoterPolicy.ASSIGNED)
    alice = user(deps, "alice")
    with pytest.raises(NotAllowedToPromote):
        shops.open_shop(alice, "shop", deps)
    shops.grant_promoter(alice, "u-admin", deps)
    assert shops.open_shop(alice, "shop", deps).invite_code


def test_binding_stores_parent_and_grandparent_and_moves_the_counters(deps):
    alice, alice_code = distributor(deps, "alice")
    bob, bob_code = distributor(deps, "bob")
    carol = user(deps, "carol")
    referrals.bind(bob, alice_code, deps)
    plan = referrals.bind(carol, bob_code, deps)
    assert (plan.parent_id, plan.grandparent_id) == (bob, alice)
    stored = deps.users.get(carol).member
    assert (stored.parent_id, stored.grandparent_id) == (bob, alice)
    assert (deps.users.get(alice).member.direct_count, deps.users.get(alice).member.team_count) == (1, 2)
    assert (deps.users.get(bob).member.direct_count, deps.users.get(bob).member.team_count) == (1, 1)


def test_binding_again_to_the_same_inviter_changes_nothing(deps):
    alice, code = distributor(deps, "alice")
    bob = user(deps, "bob")
    referrals.bind(bob, code, deps)
    assert referrals.bind(bob, code, deps).unchanged
    assert deps.users.get(alice).member.direct_count == 1


@pytest.mark.parametrize("code", ["NOPE2345", "short", "with space", "ZZZZZZZZ"])
def test_an_unknown_invite_code_is_refused(deps, code):
    bob = user(deps, "bob")
    with pytest.raises(InviteCodeNotFound):
        referrals.bind(bob, code, deps)
    assert deps.users.get(bob).member.parent_id is None


def test_a_user_cannot_bind_to_their_own_code(deps):
    alice, code = distributor(deps, "alice")
    with pytest.raises(SelfReferral):
        referrals.bind(alice, code, deps)


def test_a_bound_user_cannot_be_bound_to_another_distributor(deps):
    _, alice_code = distributor(deps, "alice")
    _, dave_code = distributor(deps, "dave")
    bob = user(deps, "bob")
    referrals.bind(bob, alice_code, deps)
    with pytest.raises(AlreadyBound):
        referrals.bind(bob, dave_code, deps)


def test_a_user_with_a_paid_order_is_not_a_new_user(deps):
    _, code = distributor(deps, "alice")
    bob = user(deps, "bob")
    deps.users.record_paid_order(bob, 5_000)
    with pytest.raises(NotANewUser):
        referrals.bind(bob, code, deps)
    with_rules(deps, bindable="any_unbound")
    assert referrals.bind(bob, code, deps).parent_id


def test_a_binding_that_would_close_a_loop_deep_in_the_tree_is_refused(deps):
    # a ← b ← c ← d ← e: binding a under e would make a loop four levels down
    names = ["a", "b", "c", "d", "e"]
    people = {n: distributor(deps, n) for n in names}
    for upper, lower in itertools.pairwise(names):
        referrals.bind(people[lower][0], people[upper][1], deps)
    with pytest.raises(ReferralCycle):
        referrals.bind(people["a"][0], people["e"][1], deps)
    assert deps.users.get(people["a"][0]).member.parent_id is None


def test_binding_a_user_with_a_downline_moves_their_invitees_grandparent(deps):
    alice, alice_code = distributor(deps, "alice")
    bob, bob_code = distributor(deps, "bob")
    carol, dan = user(deps, "carol"), user(deps, "dan")
    referrals.bind(carol, bob_code, deps)
    referrals.bind(dan, bob_code, deps)
    referrals.bind(bob, alice_code, deps)
    for child in (carol, dan):
        assert deps.users.get(child).member.grandparent_id == alice
    assert (deps.users.get(alice).member.direct_count, deps.users.get(alice).member.team_count) == (1, 3)


def test_last_click_rebinds_and_moves_the_counters_from_the_old_parent(deps):
    with_rules(deps, duration=BindingDuration.LAST_CLICK)
    alice, alice_code = distributor(deps, "alice")
    dave, dave_code = distributor(deps, "dave")
    bob = user(deps, "bob")
    referrals.bind(bob, alice_code, deps)
    referrals.bind(bob, dave_code, deps)
    assert deps.users.get(bob).member.parent_id == dave
    assert deps.users.get(alice).member.direct_count == 0 and deps.users.get(dave).member.direct_count == 1


def test_an_n_day_binding_lapses_and_the_user_can_be_bound_again(deps, clock):
    with_rules(deps, duration=BindingDuration.DAYS, duration_days=7)
    _, alice_code = distributor(deps, "alice")
    dave, dave_code = distributor(deps, "dave")
    bob = user(deps, "bob")
    referrals.bind(bob, alice_code, deps)
    with pytest.raises(AlreadyBound):
        referrals.bind(bob, dave_code, deps)
    clock.advance(days=7, seconds=1)
    assert deps.users.get(bob).member.upline(clock()).level1 is None
    assert referrals.bind(bob, dave_code, deps).parent_id == dave


def test_the_team_view_pages_through_direct_invitees_and_shows_tier_progress(deps):
    alice, code = distributor(deps, "alice")
    invitees = [user(deps, f"u{i}") for i in range(5)]
    for invitee in invitees:
        referrals.bind(invitee, code, deps)
    first = referrals.team(alice, 3, None, deps)
    second = referrals.team(alice, 3, first.next_cursor, deps)
    assert len(first.direct) == 3 and len(second.direct) == 2 and first.next_cursor
    assert {u.user_id for u in first.direct + second.direct} == set(invitees)
    assert first.next_tier == (Tier.SENIOR, {"direct_count": 5, "month_sales_fen": 500_000})


def sales_of(deps: Deps, distributor_code: str, units: int) -> None:
    """One invitee of the distributor buys ``units`` of a 2,500-yuan product (paid now)."""
    from tests.service.test_orders import paid_order

    deps.products.put_if_absent(Product("big", "大件", "beauty", 50_000, 250_000, 100, 2_000, 500), deps.clock())
    buyer = user(deps, f"buyer{units}")
    referrals.bind(buyer, distributor_code, deps)
    paid_order(deps, buyer, "big", quantity=units)


def test_a_distributor_is_senior_once_direct_count_and_sales_meet_the_rule_and_the_month_change_leaves_it(deps, clock):
    alice, code = distributor(deps, "alice")
    for i in range(9):
        referrals.bind(user(deps, f"u{i}"), code, deps)
    sales_of(deps, code, 2)  # the tenth invitee's 5,000 yuan: senior at that payment, no job run
    assert deps.users.get(alice).tier is Tier.SENIOR
    first = run_job("evaluate_tiers", clock(), deps)
    second = run_job("evaluate_tiers", clock(), deps)
    assert (first.get("kept", 0), first.get("downgraded", 0), second.get("kept", 0)) == (0, 0, 0)
    assert first["parts"] == second["parts"] == 16
    assert deps.users.get(alice).tier is Tier.SENIOR


def test_the_month_change_downgrades_when_last_month_fell_short(deps, clock):
    alice, code = distributor(deps, "alice")
    for i in range(9):
        referrals.bind(user(deps, f"u{i}"), code, deps)
    sales_of(deps, code, 3)  # 7,500 yuan in November
    clock.advance(days=25)  # 2026-12-05: November qualified, so the tier holds through December
    december = run_job("evaluate_tiers", clock(), deps)
    assert (december.get("downgraded", 0), december["kept"]) == (0, 1)
    clock.advance(days=31)  # 2027-01-05: December had no sales
    assert run_job("evaluate_tiers", clock(), deps)["downgraded"] == 1
    assert deps.users.get(alice).tier is Tier.REGULAR


def test_invitation_milestones_are_recorded_once_by_the_completion_that_reaches_them(deps, clock):
    from tests.service.test_rewards import qualify

    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), clock())
    alice, code = distributor(deps, "alice")
    buyers = [user(deps, f"u{i}") for i in range(11)]
    recorded = []
    for buyer in buyers:
        referrals.bind(buyer, code, deps)
        qualify(deps, buyer, "p1")
        recorded.append(len(deps.users.milestones(alice)))
    assert recorded == [0] * 9 + [1, 1]
    assert [m["reward"] for m in deps.users.milestones(alice)] == ["gift_pack"]


def test_the_shop_store_names_which_item_refused_by_its_key_not_its_position(deps: Deps) -> None:
    """PynamoDB sends the invite code's put before the profile's update: a refusal is told apart
    by the item's key ("already" is the profile's condition, "code_taken" the code's)."""
    alice, code = distributor(deps, "alice")
    bob = user(deps, "bob")
    now = deps.clock()
    assert deps.users.open_shop(alice, "again", "FRESH0001", now) == "already"
    assert deps.users.open_shop(bob, "bob's shop", code, now) == "code_taken"
    assert deps.users.get(bob).invite_code is None
