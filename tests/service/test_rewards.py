"""Rewards on moto: the partners' monthly team bonus and the invitation ladder's cash, exactly once."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.tiers import Tier
from chalicelib.services import orders, referrals, rewards, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.services.tiers import evaluate_tiers
from chalicelib.store.ledger import LedgerItem
from tests.service.test_orders import distributor, login, paid_order

DECEMBER_1ST = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 in Shanghai


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def team(deps: Deps, product_id: str) -> tuple[str, str]:
    """A partner with a level-1 order, a level-2 order and a refunded level-1 order in November;
    returns (partner, the level-1 distributor under them)."""
    partner, code = distributor(deps, "partner")
    assert deps.users.set_tier(partner, Tier.PARTNER, "2026-11", expected=Tier.REGULAR)
    mid = login(deps, "mid")
    referrals.bind(mid, code, deps)
    mid_code = shops.open_shop(mid, "mid shop", deps).invite_code
    assert mid_code
    direct, indirect = login(deps, "direct"), login(deps, "indirect")
    referrals.bind(direct, code, deps)
    referrals.bind(indirect, mid_code, deps)
    paid_order(deps, direct, product_id)  # level 1: partner
    paid_order(deps, indirect, product_id)  # level 1: mid, level 2: partner
    refunded = paid_order(deps, direct, product_id)
    orders.refund(refunded, Caller(direct, "user"), "不想要了", deps)
    return partner, mid


def test_a_partner_is_paid_3_percent_of_last_months_team_sales_once(deps, product):
    partner, mid = team(deps, product)
    assert LedgerItem.get(partner, "teamsales#2026-11").amount_fen == 10_000  # 3 × 5,000 paid − 5,000 refunded
    assert LedgerItem.get(mid, "teamsales#2026-11").amount_fen == 5_000
    before = deps.ledger.wallet(partner)["available"]
    first = rewards.team_bonus(DECEMBER_1ST, deps)
    assert (first["month"], first["partners"], first["paid"], first["paid_fen"]) == ("2026-11", 1, 1, 300)
    assert deps.ledger.wallet(partner)["available"] == before + 300
    assert deps.ledger.wallet(mid)["available"] == 0  # not a partner: no bonus
    again = rewards.team_bonus(DECEMBER_1ST.replace(day=30, hour=17), deps)
    assert again["paid"] == 0 and again.get("skipped")
    assert deps.ledger.wallet(partner)["available"] == before + 300
    [entry] = [e for e in deps.ledger.entries(partner) if e["kind"] == "team_bonus"]
    assert entry == {"sk": "entry#teambonus#2026-11#0#team_bonus", "kind": "team_bonus", "amount_fen": 300,
                     "order_id": None}
    assert settlement.wallet_differences(partner, deps) == {}


def test_an_interrupted_run_is_finished_without_paying_twice(deps, product):
    partner, _ = team(deps, product)
    from chalicelib.store.rewards import RewardStore

    assert RewardStore().pay_team_bonus(partner, "2026-11", 300, DECEMBER_1ST)  # the run died after this
    run = rewards.team_bonus(DECEMBER_1ST, deps)
    assert (run["paid"], run["already_paid"]) == (0, 1)
    assert deps.ledger.wallet(partner)["available"] == 300


def test_the_fifty_invitee_milestone_credits_its_cash_once_and_the_gift_pack_no_money(deps, clock):
    alice, _ = distributor(deps, "alice")
    for _ in range(10):
        deps.users.add_qualified_invitee(alice)
    run = evaluate_tiers(clock(), deps)
    assert (run.milestones_recorded, run.cash_credited) == (1, 0)
    assert deps.ledger.wallet(alice)["available"] == 0
    for _ in range(40):
        deps.users.add_qualified_invitee(alice)
    runs = [evaluate_tiers(clock(), deps) for _ in range(3)]
    assert [(r.milestones_recorded, r.cash_credited) for r in runs] == [(1, 1), (0, 0), (0, 0)]
    assert deps.ledger.wallet(alice)["available"] == 5_000
    assert [e["sk"] for e in deps.ledger.entries(alice)] == ["entry#milestone#0050#0#reward"]
    cash = [m for m in deps.users.milestones(alice) if m["reward"] == "cash"]
    assert cash[0]["credited_at"] is not None
    assert settlement.wallet_differences(alice, deps) == {}


def test_a_milestone_recorded_but_not_credited_is_credited_by_the_next_run(deps, clock):
    from chalicelib.domain.invitations import Milestone

    alice, _ = distributor(deps, "alice")
    for _ in range(50):
        deps.users.add_qualified_invitee(alice)
    deps.users.record_milestone(alice, Milestone(invitees=50, reward="cash", cash_fen=5_000), clock())
    run = evaluate_tiers(clock(), deps)
    assert run.cash_credited == 1
    assert deps.ledger.wallet(alice)["available"] == 5_000
