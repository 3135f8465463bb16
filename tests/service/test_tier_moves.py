"""Tiers follow the figures as they move, on moto: an upgrade is stored by the payment or the
binding that meets a rule, with no job run (the milestones: tests/service/test_rewards.py)."""
from __future__ import annotations

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules, TierRuleConfig
from chalicelib.domain.catalog import Product
from chalicelib.domain.shards import shard_of
from chalicelib.domain.tiers import Tier
from chalicelib.services import referrals
from tests.service.test_orders import distributor, login, paid_order

MONTH = "2026-11"  # the clock's month (tests/conftest.py START)


@pytest.fixture
def big(deps: Deps) -> str:
    """2,500 yuan a unit, 20% level 1: two units are a senior's 5,000 yuan of monthly sales."""
    deps.products.put_if_absent(Product("big", "大件", "beauty", 50_000, 250_000, 100, 2_000, 500), deps.clock())
    return "big"


def invitees(deps: Deps, code: str, n: int, prefix: str = "b") -> list[str]:
    buyers = [login(deps, f"{prefix}{i}") for i in range(n)]
    for buyer in buyers:
        referrals.bind(buyer, code, deps)
    return buyers


def with_rules(deps: Deps, **rules: object) -> None:
    deps.settings = deps.settings.model_copy(update={"rules": Rules(**rules)})  # type: ignore[arg-type]


def in_range(deps: Deps, user_id: str, month: str) -> bool:
    """Whether the month change of ``month`` would find the user (index ``above_base``)."""
    users, _ = deps.users.awaiting_month_change(shard_of(user_id), month, None, 100)
    return user_id in [u.user_id for u in users]


def on_roll(user_id: str, month: str) -> bool:
    from chalicelib.store.rewards import RewardStore

    return user_id in RewardStore().partners_page(month, shard_of(user_id), None, 100)[0]


def test_the_payment_that_brings_the_months_sales_to_the_threshold_makes_the_distributor_senior(deps, big):
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 10)
    paid_order(deps, buyers[0], big)  # 2,500 yuan
    assert deps.users.get(alice).tier is Tier.REGULAR
    crossing = paid_order(deps, buyers[1], big)  # 5,000 yuan this month, 10 direct invitees
    me = deps.users.get(alice)
    assert (me.tier, me.tier_month, me.sales.fen) == (Tier.SENIOR, MONTH, 500_000)
    assert deps.orders.get(crossing).commissions[0].amount_fen == 50_000  # 20%: paid at the tier before it
    after = paid_order(deps, buyers[2], big)
    assert deps.orders.get(after).commissions[0].amount_fen == 62_500  # 25%: the senior's +5 points
    assert in_range(deps, alice, "2026-12") and not in_range(deps, alice, MONTH)  # December's change finds her
    assert not on_roll(alice, MONTH)


def test_the_binding_of_the_tenth_invitee_makes_a_distributor_with_the_sales_senior(deps, big):
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 9)
    paid_order(deps, buyers[0], big, quantity=2)  # 5,000 yuan with 9 direct invitees
    assert deps.users.get(alice).tier is Tier.REGULAR
    referrals.bind(login(deps, "tenth"), code, deps)
    assert (deps.users.get(alice).tier, deps.users.get(alice).tier_month) == (Tier.SENIOR, MONTH)


def counting_commits(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The outcome of every binding transaction from now on: ``ok`` or the error's name."""
    outcomes: list[str] = []
    original = deps.users.commit_binding

    def commit(*args: object, **kwargs: object) -> None:
        try:
            original(*args, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            outcomes.append(type(exc).__name__)
            raise
        outcomes.append("ok")

    monkeypatch.setattr(deps.users, "commit_binding", commit)
    return outcomes


def test_a_binding_under_an_invitee_upgrades_the_inviters_parent_it_did_not_read(deps, monkeypatch):
    """The inviter's parent gains a team member without being read: its counter moves under the
    upgrade guard, which refuses the binding that completes a partner's team; the binding reads
    that distributor, decides the upgrade and records them on the month's partner roll."""
    with_rules(deps, tiers=[TierRuleConfig(tier=Tier.SENIOR, min_direct=10, min_month_sales_fen=500_000, uplift_bp=500),
                            TierRuleConfig(tier=Tier.PARTNER, min_team=3, uplift_bp=1_000)])
    top, top_code = distributor(deps, "top")
    mid, mid_code = distributor(deps, "mid")
    referrals.bind(mid, top_code, deps)
    invitees(deps, mid_code, 1, "first")
    assert (deps.users.get(top).member.team_count, deps.users.get(top).tier) == (2, Tier.REGULAR)
    commits = counting_commits(deps, monkeypatch)
    invitees(deps, mid_code, 1, "second")
    assert commits == ["UpgradeDue", "ok"]
    upgraded = deps.users.get(top)
    assert (upgraded.member.team_count, upgraded.tier, upgraded.tier_month) == (3, Tier.PARTNER, MONTH)
    assert on_roll(top, MONTH) and not on_roll(mid, MONTH)
    assert deps.users.get(mid).tier is Tier.REGULAR


def test_a_guard_that_upgrades_nobody_lets_the_binding_through_in_one_attempt(deps, monkeypatch):
    top, top_code = distributor(deps, "top")
    mid, mid_code = distributor(deps, "mid")
    referrals.bind(mid, top_code, deps)
    commits = counting_commits(deps, monkeypatch)
    invitees(deps, mid_code, 3)
    assert commits == ["ok"] * 3 and deps.users.get(top).tier is Tier.REGULAR
