"""Rewards on moto: the partners' monthly team bonus and the invitation ladder's cash, exactly once.
The jobs run as they are deployed, in parts and slices (``run_job``)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.catalog import Product
from chalicelib.domain.invitations import Milestone
from chalicelib.domain.shards import shard_of
from chalicelib.domain.tiers import Tier
from chalicelib.jobs import run_job
from chalicelib.services import orders, referrals, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem
from tests.service.test_orders import distributor, login, paid_order
from tests.service.test_settlement import settle

DECEMBER_1ST = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 in Shanghai
DECEMBER_4TH = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai: the hold (3 days) after November


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def team(deps: Deps, product_id: str, partner_in: str | None = "2026-11") -> tuple[str, str]:
    """A partner (made partner by hand for ``partner_in``; None: a regular distributor) with a
    level-1 order, a level-2 order and a refunded level-1 order in November; returns (partner,
    the level-1 distributor under them)."""
    partner, code = distributor(deps, "partner")
    if partner_in:
        assert deps.users.set_tier(partner, Tier.PARTNER, partner_in, expected=Tier.REGULAR, now=deps.clock())
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


def team_bonus(now: datetime, deps: Deps) -> dict:
    return run_job("team_bonus", now, deps)


def bonus_item(user_id: str, month: str = "2026-11") -> LedgerItem:
    return LedgerItem.get(user_id, f"teambonus#{month}", consistent_read=True)


def test_a_partner_accrues_3_percent_of_last_months_team_sales_into_pending_once(deps, product):
    partner, mid = team(deps, product)
    assert LedgerItem.get(partner, "teamsales#2026-11").amount_fen == 10_000  # 3 × 5,000 paid − 5,000 refunded
    assert LedgerItem.get(mid, "teamsales#2026-11").amount_fen == 5_000
    before = deps.ledger.wallet(partner)
    first = team_bonus(DECEMBER_1ST, deps)
    assert (first["month"], first["partners"], first["paid"], first["paid_fen"]) == ("2026-11", 1, 1, 300)
    after = deps.ledger.wallet(partner)
    assert (after["pending"], after["available"]) == (before["pending"] + 300, before["available"])  # not withdrawable
    assert [e for e in deps.ledger.entries(mid) if e["kind"] == "team_bonus"] == []  # not a partner: no bonus
    again = team_bonus(DECEMBER_1ST.replace(day=30, hour=17), deps)
    assert again["paid"] == 0 and again.get("skipped")
    assert deps.ledger.wallet(partner) == after
    [entry] = [e for e in deps.ledger.entries(partner) if e["kind"] == "team_bonus"]
    assert entry == {"sk": "entry#teambonus#2026-11#0#team_bonus", "kind": "team_bonus", "amount_fen": 300,
                     "order_id": None}
    bonus = bonus_item(partner)
    assert (bonus.status, bonus.amount_fen, bonus.rate_bp, bonus.settle_shard) == ("pending", 300, 300, shard_of(partner))
    assert bonus.settle_key == f"2026-12-03T16:00:00Z#{partner}#teambonus#2026-11#0"  # due 2026-12-04 00:00 Shanghai
    assert settlement.wallet_differences(partner, deps) == {}


def test_the_bonus_becomes_available_at_the_hold_after_the_month_closes_exactly_once(deps, product):
    partner, _ = team(deps, product)
    team_bonus(DECEMBER_1ST, deps)
    before = deps.ledger.wallet(partner)
    assert settle(DECEMBER_4TH - timedelta(minutes=1), deps)["settled"] == 0
    assert settle(DECEMBER_4TH + timedelta(minutes=10), deps)["settled"] == 1
    assert settle(DECEMBER_4TH + timedelta(days=1), deps)["settled"] == 0
    after = deps.ledger.wallet(partner)
    assert (after["pending"], after["available"]) == (before["pending"] - 300, before["available"] + 300)
    bonus = bonus_item(partner)
    assert (bonus.status, bonus.settle_shard) == ("available", None)
    settled = [e for e in deps.ledger.entries(partner) if e["kind"] == "settlement"]
    assert [(e["sk"], e["amount_fen"]) for e in settled] == [("entry#teambonus#2026-11#0#settlement", 300)]
    assert settlement.wallet_differences(partner, deps) == {}


def test_a_refund_before_the_bonus_is_available_reverses_the_orders_share_from_pending(deps, clock, product):
    partner, _ = team(deps, product)
    kept = [o for o in deps.orders.by_buyer(login(deps, "direct"), 10, None)[0] if o.status.value == "paid"]
    team_bonus(DECEMBER_1ST, deps)
    before = deps.ledger.wallet(partner)
    clock.at = DECEMBER_1ST + timedelta(days=1)
    orders.refund(kept[0].order_id, Caller(kept[0].buyer_id, "user"), "不想要了", deps)
    after = deps.ledger.wallet(partner)
    commission = 5_000 * 3_000 // 10_000  # the partner's level-1 commission of that order, reversed too
    assert after["pending"] == before["pending"] - 150 - commission  # 3% of the refunded 5,000
    assert LedgerItem.get(partner, "teamsales#2026-11").amount_fen == 5_000
    assert bonus_item(partner).amount_fen == 150
    [reversal] = [e for e in deps.ledger.entries(partner) if e["kind"] == "team_bonus_reversal"]
    assert (reversal["amount_fen"], reversal["order_id"]) == (150, kept[0].order_id)
    settle(DECEMBER_4TH + timedelta(minutes=10), deps)
    assert deps.ledger.wallet(partner)["available"] == before["available"] + 150
    assert settlement.wallet_differences(partner, deps) == {}


def test_a_refund_after_the_bonus_is_available_claws_the_orders_share_back(deps, clock, product):
    partner, _ = team(deps, product)
    kept = [o for o in deps.orders.by_buyer(login(deps, "indirect"), 10, None)[0] if o.status.value == "paid"]
    team_bonus(DECEMBER_1ST, deps)
    settle(DECEMBER_4TH + timedelta(minutes=10), deps)
    before = deps.ledger.wallet(partner)
    clock.at = DECEMBER_4TH + timedelta(days=2)
    orders.refund(kept[0].order_id, Caller(kept[0].buyer_id, "user"), "不想要了", deps)  # partner is its level 2
    after = deps.ledger.wallet(partner)
    assert after["available"] == before["available"] - 150
    [clawback] = [e for e in deps.ledger.entries(partner) if e["kind"] == "team_bonus_clawback"]
    assert clawback["amount_fen"] == 150
    assert (bonus_item(partner).status, bonus_item(partner).amount_fen) == ("available", 150)
    assert settlement.wallet_differences(partner, deps) == {}


def test_a_partner_downgraded_at_month_end_is_paid_for_the_month_they_were_a_partner_in(deps, product):
    partner, _ = team(deps, product)
    run_job("evaluate_tiers", DECEMBER_1ST - timedelta(minutes=25), deps)  # 00:05 on the 1st: before the bonus job
    assert deps.users.get(partner).tier is not Tier.PARTNER  # November's figures do not keep the tier
    run = team_bonus(DECEMBER_1ST, deps)
    assert (run["partners"], run["paid"], run["paid_fen"]) == (1, 1, 300)
    assert bonus_item(partner).amount_fen == 300
    assert settlement.wallet_differences(partner, deps) == {}


def test_a_distributor_partner_only_by_a_later_months_decision_is_not_paid_for_the_month(deps, product):
    partner, _ = team(deps, product, partner_in=None)  # regular in November
    assert deps.users.set_tier(partner, Tier.PARTNER, "2026-12", expected=Tier.REGULAR)  # partner from December
    assert team_bonus(DECEMBER_1ST, deps)["partners"] == 0


def test_a_refund_in_a_month_paid_before_bonuses_had_their_own_item_goes_through_and_takes_nothing_back(
        deps, clock, product):
    partner, _ = team(deps, product)
    kept = [o for o in deps.orders.by_buyer(login(deps, "direct"), 10, None)[0] if o.status.value == "paid"]
    sales = LedgerItem.get(partner, "teamsales#2026-11")
    sales.update(actions=[LedgerItem.paid_at.set(DECEMBER_1ST), LedgerItem.bonus_fen.set(300)])  # the old way
    clock.at = DECEMBER_1ST + timedelta(days=1)
    assert orders.refund(kept[0].order_id, Caller(kept[0].buyer_id, "user"), "不想要了", deps).status.value == "refunded"
    assert [e for e in deps.ledger.entries(partner) if e["kind"].startswith("team_bonus")] == []
    assert settlement.wallet_differences(partner, deps) == {}


def test_an_interrupted_run_is_finished_without_paying_twice(deps, product):
    partner, _ = team(deps, product)
    from chalicelib.store.rewards import RewardStore

    available_at = DECEMBER_4TH
    RewardStore().accrue_team_bonus(partner, "2026-11", 10_000, 300, 300, available_at, DECEMBER_1ST)  # then died
    before = deps.ledger.wallet(partner)
    run = team_bonus(DECEMBER_1ST, deps)
    assert (run["paid"], run["already_paid"]) == (0, 1)
    assert deps.ledger.wallet(partner) == before


def test_an_accrual_on_sales_a_refund_changed_meanwhile_is_refused_and_changes_nothing(deps, product):
    partner, _ = team(deps, product)
    from chalicelib.store.base import TransactionFailed
    from chalicelib.store.rewards import RewardStore

    before = deps.ledger.wallet(partner)
    with pytest.raises(TransactionFailed):  # read 15,000 before the refund of 5,000 committed
        RewardStore().accrue_team_bonus(partner, "2026-11", 15_000, 450, 300, DECEMBER_4TH, DECEMBER_1ST)
    assert deps.ledger.wallet(partner) == before
    assert [e for e in deps.ledger.entries(partner) if e["kind"] == "team_bonus"] == []


# The invitation ladder's cash: recorded and credited by the completion that reaches it ----------

def qualify(deps: Deps, buyer: str, product: str) -> str:
    """The buyer's first order paid, shipped and received: they count for their inviter."""
    order_id = paid_order(deps, buyer, product)
    orders.ship(order_id, "SF", f"SF{order_id[-8:]}", deps)
    orders.confirm(order_id, Caller(buyer, "user"), deps)
    return order_id


def with_ladder(deps: Deps, ladder: list[Milestone]) -> None:
    deps.settings = deps.settings.model_copy(update={"rules": Rules(invitation_ladder=ladder)})


def invitees(deps: Deps, code: str, n: int) -> list[str]:
    buyers = [login(deps, f"b{i}") for i in range(n)]
    for buyer in buyers:
        referrals.bind(buyer, code, deps)
    return buyers


LADDER = [Milestone(invitees=2, reward="gift_pack"), Milestone(invitees=3, reward="cash", cash_fen=5_000)]


def test_the_cash_milestone_is_recorded_and_credited_once_by_the_completion_reaching_it_and_the_gift_pack_no_money(
        deps, product):
    """Milestones at 2 (a gift pack) and 3 invitees (cash): each recorded by the completion that
    counts the invitee reaching it, the cash credited in that same transaction (never recorded
    without it: tests/race/test_tier_faults.py crashes it at every call), nothing by later ones."""
    with_ladder(deps, LADDER)
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 4)
    recorded = []
    for buyer in buyers:
        qualify(deps, buyer, product)
        recorded.append([m["invitees"] for m in deps.users.milestones(alice)])
    assert recorded == [[], [2], [2, 3], [2, 3]]
    cash = [m for m in deps.users.milestones(alice) if m["reward"] == "cash"]
    assert cash[0]["credited_at"] == cash[0]["reached_at"]
    assert deps.ledger.wallet(alice)["available"] == 5_000  # the gift pack is no money
    assert [e["sk"] for e in deps.ledger.entries(alice) if e["kind"] == "reward"] == ["entry#milestone#0003#0#reward"]
    assert deps.users.get(alice).qualified_invitees == 4
    assert settlement.wallet_differences(alice, deps) == {}


def test_a_second_completed_order_of_an_invitee_counts_nothing_more(deps, product):
    with_ladder(deps, LADDER)
    alice, code = distributor(deps, "alice")
    [buyer] = invitees(deps, code, 1)
    qualify(deps, buyer, product)
    qualify(deps, buyer, product)
    assert deps.users.get(alice).qualified_invitees == 1 and deps.users.milestones(alice) == []


def test_a_milestone_the_ladder_gained_below_a_count_already_passed_is_recorded_with_the_next_invitee(deps, product):
    alice, code = distributor(deps, "alice")
    buyers = invitees(deps, code, 3)
    for buyer in buyers[:2]:
        qualify(deps, buyer, product)
    with_ladder(deps, [Milestone(invitees=1, reward="cash", cash_fen=800), *LADDER[1:]])
    qualify(deps, buyers[2], product)
    assert [m["invitees"] for m in deps.users.milestones(alice)] == [1, 3]
    assert deps.ledger.wallet(alice)["available"] == 5_800
    assert LedgerItem.get(alice, "entry#milestone#0001#0#reward").amount_fen == 800
