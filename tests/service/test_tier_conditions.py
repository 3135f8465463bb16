"""The store's tier conditions on moto (store/users.py): the upgrade guard, as DynamoDB evaluates
it on a profile, holds exactly when the domain says the delta upgrades nobody (figures missing or
of another month included); a stored decision is refused once any figure it read has moved."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pynamodb.transactions import TransactWrite

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.tier_moves import TierGuard, at_month_change
from chalicelib.domain.tiers import Tier, TierRule, TierRules, TierStats
from chalicelib.store.users import PROFILE, UserItem, with_move

MONTH = "2026-12"
NOW = datetime(2026, 12, 2, tzinfo=UTC)
RULES = TierRules((TierRule(Tier.SENIOR, min_direct=3, min_month_sales_fen=5, uplift_bp=500),
                   TierRule(Tier.PARTNER, min_team=6, min_month_sales_fen=10, uplift_bp=1_000)))


def profile(user_id: str, tier: Tier | None, direct: int, team: int, sales_month: str | None, sales: int) -> None:
    """A distributor's profile; a 0 figure is left out (as a fresh profile has it), a None tier too."""
    item = UserItem(user_id, PROFILE, created_at=NOW, invite_code="CODE0001", sales_month=sales_month,
                    tier=tier.value if tier else None, direct_count=direct or None, team_count=team or None,
                    month_sales_fen=sales or None)
    item.save()


def moves_through(user_id: str, guard: TierGuard) -> bool:
    actions, condition = [UserItem.nickname.set("moved")], UserItem.created_at.exists()
    try:
        with TransactWrite(connection=UserItem._get_connection().connection) as tx:
            actions, condition = with_move(tx, guard, actions, condition, NOW)
            tx.update(UserItem(user_id, PROFILE), actions=actions, condition=condition)
    except Exception:  # noqa: BLE001 -- refused by the condition: what the test compares
        return False
    return True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tier=st.sampled_from([None, *Tier]), direct=st.integers(0, 5), team=st.integers(0, 9),
       sales_month=st.sampled_from([None, "2026-11", MONTH]), sales=st.integers(0, 14),
       delta=st.builds(TierStats, st.integers(0, 2), st.integers(0, 3), st.integers(0, 6)))
def test_the_guard_lets_a_move_through_exactly_when_it_upgrades_nobody(deps: Deps, tier, direct, team, sales_month,
                                                                       sales, delta):
    profile("u-guard", tier, direct, team, sales_month, sales)
    this_month = sales if sales_month == MONTH else 0
    after = TierStats(direct + delta.direct_count, team + delta.team_count, this_month + delta.month_sales_fen)
    expected = RULES.upgrade(tier or Tier.REGULAR, after) is None
    assert moves_through("u-guard", TierGuard("u-guard", MONTH, RULES.upgrade_guard(delta))) is expected


@pytest.mark.parametrize("moved", [UserItem.team_count.add(1), UserItem.month_sales_fen.add(-1),
                                   UserItem.previous_month_sales_fen.add(5), UserItem.tier_month.set("2026-12")],
                         ids=["team", "sales", "last-months-sales", "decided-meanwhile"])
def test_a_month_change_is_refused_once_a_figure_it_read_has_moved(deps: Deps, moved):
    profile("u-change", Tier.SENIOR, 3, 3, MONTH, 7)
    UserItem("u-change", PROFILE).update(actions=[UserItem.tier_month.set("2026-11")])
    read = deps.users.get("u-change")
    change = at_month_change(RULES, read, MONTH)
    assert change is not None
    UserItem("u-change", PROFILE).update(actions=[moved])
    with pytest.raises(ConcurrentUpdate):
        deps.users.store_tier(change, NOW)
    assert deps.users.get("u-change").tier is Tier.SENIOR


def test_a_month_change_on_what_is_there_is_stored_and_leaves_the_range(deps: Deps):
    profile("u-kept", Tier.SENIOR, 3, 3, "2026-11", 7)
    UserItem("u-kept", PROFILE).update(actions=[UserItem.tier_month.set("2026-11")])
    deps.users.set_tier("u-kept", Tier.SENIOR, "2026-11", expected=Tier.SENIOR)  # listed in above_base
    read = deps.users.get("u-kept")
    change = at_month_change(RULES, read, MONTH)
    assert change is not None and change.tier is Tier.SENIOR  # November's 7 fen and 3 direct: kept
    deps.users.store_tier(change, NOW)
    assert deps.users.get("u-kept").tier_month == MONTH
    assert deps.users.awaiting_month_change("u-kept"[-1], MONTH, None, 10) == ([], None)
