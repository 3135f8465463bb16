"""A fault at every DynamoDB call of this area's writes, on DynamoDB Local (tests/faults.py): the
month-change part, the payment that crosses a tier's threshold, the completion that reaches a cash
milestone and the team-bonus part. After each fault, what the world does next (the part's message
redelivered, WeChat's notification again, the buyer confirming again) must leave every table as a
fault-free run does: each distributor re-decided once, the upgrade stored once, the milestone's
cash credited once, each bonus accrued once."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DomainError
from chalicelib.domain.invitations import Milestone
from chalicelib.domain.shards import shard_of
from chalicelib.domain.tiers import Tier
from chalicelib.jobs.engine import Deadline
from chalicelib.services import orders, payments, referrals, rewards, settlement, tiers
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem, team_sales_key
from chalicelib.store.users import PROFILE, UserItem, user_id_for
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import ADDRESS, distributor, login

pytestmark = pytest.mark.race

DECEMBER_2ND = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
SHARD = "a"


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: DECEMBER_2ND)


def in_shard(prefix: str, n: int) -> list[str]:
    return [name for name in (f"{prefix}{i}" for i in range(400)) if shard_of(user_id_for(f"dev:{name}")) == SHARD][:n]


def decided(deps: Deps, name: str, tier: Tier, sales: int, team: int = 10) -> str:
    """A distributor of shard ``a`` whose ``tier`` was decided in November, with November's sales."""
    user_id, _ = distributor(deps, name)
    assert deps.users.set_tier(user_id, tier, "2026-11", expected=Tier.REGULAR, now=deps.clock())
    UserItem(user_id, PROFILE).update(actions=[UserItem.direct_count.set(10), UserItem.team_count.set(team),
                                               UserItem.sales_month.set("2026-11"), UserItem.month_sales_fen.set(sales)])
    return user_id


# The month change ---------------------------------------------------------------------------------

def month_change_setup(deps: Deps) -> None:
    """Four distributors in one shard: a senior kept, a senior downgraded, a partner downgraded to
    senior (November's roll) and a partner kept (December's roll too)."""
    kept, short, partner, partner_kept = in_shard("d", 4)
    decided(deps, kept, Tier.SENIOR, 500_000)
    decided(deps, short, Tier.SENIOR, 1)
    decided(deps, partner, Tier.PARTNER, 600_000, team=49)
    decided(deps, partner_kept, Tier.PARTNER, 10_000_000, team=50)


def month_change_part(deps: Deps, _: Any) -> Any:
    """The shard's part, all of it in one slice (the recovery: its message delivered again)."""
    return tiers.change_month_part(f"2026-12#{SHARD}", None, DECEMBER_2ND, deps, Deadline.after(600))


def test_a_fault_at_any_call_of_the_month_change_then_the_part_again_re_decides_each_distributor_once(deps, faults):
    calls, endings = run_with_faults(Case(month_change_setup, month_change_part, month_change_part), deps, faults)
    assert calls[:2] == ["Query", "BatchGetItem"]
    assert calls.count("UpdateItem") == 2 and calls.count("TransactWriteItems") == 2  # partners: their roll with it
    assert endings["crashed"] == len(calls) + 1
    tiers_now = sorted(deps.users.get(user_id_for(f"dev:{n}")).tier.value for n in in_shard("d", 4))
    assert tiers_now == ["partner", "regular", "senior", "senior"]


# A payment that crosses the senior threshold ----------------------------------------------------------

def crossing_setup(deps: Deps) -> tuple[dict[str, str], bytes]:
    """Alice with 10 direct invitees and 4,000 yuan of December sales; an invitee's 1,000-yuan
    order awaiting its notification."""
    alice, code = distributor(deps, "alice")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    UserItem(alice, PROFILE).update(actions=[UserItem.direct_count.set(10), UserItem.sales_month.set("2026-12"),
                                             UserItem.month_sales_fen.set(400_000)])
    deps.products.put_if_absent(Product("big", "大件", "beauty", 20_000, 100_000, 5, 2_000, 500), deps.clock())
    body = {"items": [{"product_id": "big", "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [("big", 1)], body, "crossing-key", deps).order
    return deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                               amount_fen=order.amount_fen)


def deliver(deps: Deps, note: tuple[dict[str, str], bytes]) -> str:
    return payments.handle_notification(note[0], note[1], deps).outcome


def test_a_fault_at_any_call_of_the_payment_crossing_the_threshold_then_the_notification_again_upgrades_once(
        deps, faults):
    calls, _ = run_with_faults(Case(crossing_setup, deliver, deliver), deps, faults)
    assert "TransactWriteItems" in calls
    alice = deps.users.get(user_id_for("dev:alice"))
    assert (alice.tier, alice.tier_month, alice.sales.fen) == (Tier.SENIOR, "2026-12", 500_000)


# A completion that reaches a cash milestone ----------------------------------------------------------

CASH_AT_ONE = Rules(invitation_ladder=[Milestone(invitees=1, reward="cash", cash_fen=5_000)])


def milestone_setup(deps: Deps) -> tuple[str, str]:
    deps.settings = deps.settings.model_copy(update={"rules": CASH_AT_ONE})
    _, code = distributor(deps, "alice")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 5, 2_000, 500), deps.clock())
    body = {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [("p1", 1)], body, "milestone-key", deps).order
    note = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                               amount_fen=order.amount_fen)
    assert deliver(deps, note) == "paid"
    orders.ship(order.order_id, "SF", "SF00000001", deps)
    return buyer, order.order_id


def confirm(deps: Deps, context: tuple[str, str]) -> Any:
    buyer, order_id = context
    try:
        return orders.confirm(order_id, Caller(buyer, "user"), deps).status.value
    except DomainError as exc:  # confirmed already: the buyer's second tap answers 409
        return exc.code


def test_a_fault_at_any_call_of_the_completion_reaching_a_cash_milestone_then_confirming_again_credits_it_once(
        deps, faults):
    """The analytics table is left out of the comparison: the completion's fact is counted after
    its transaction (services/facts.py), so a crash between the two loses that count, and the
    buyer's second confirmation finds the order completed (a gap of the analytics path, not of
    the money: every other table is compared)."""
    from chalicelib.store.analytics import AnalyticsItem

    calls, _ = run_with_faults(Case(milestone_setup, confirm, confirm), deps, faults, ignore=[AnalyticsItem])
    assert "TransactWriteItems" in calls
    alice = user_id_for("dev:alice")
    assert [(m["invitees"], m["cash_fen"]) for m in deps.users.milestones(alice)] == [(1, 5_000)]
    assert deps.ledger.wallet(alice)["available"] == 5_000 and settlement.wallet_differences(alice, deps) == {}


# The team bonus of a shard ----------------------------------------------------------------------------

def bonus_setup(deps: Deps) -> list[str]:
    """Three partners of November in one shard, with team sales."""
    partners = []
    for n, name in enumerate(in_shard("p", 3), start=1):
        user_id, _ = distributor(deps, name)
        assert deps.users.set_tier(user_id, Tier.PARTNER, "2026-11", expected=Tier.REGULAR, now=deps.clock())
        LedgerItem(user_id, team_sales_key("2026-11"), amount_fen=10_000 * n).save()
        partners.append(user_id)
    return partners


def bonus_part(deps: Deps, _: Any) -> Any:
    return rewards.team_bonus_part(f"2026-11#{SHARD}", None, DECEMBER_2ND, deps, Deadline.after(600))


def test_a_fault_at_any_call_of_a_team_bonus_part_then_the_part_again_accrues_each_bonus_once(deps, faults):
    calls, _ = run_with_faults(Case(bonus_setup, bonus_part, bonus_part), deps, faults)
    assert calls[:2] == ["Query", "BatchGetItem"] and calls.count("TransactWriteItems") == 3
    partners = [user_id_for(f"dev:{n}") for n in in_shard("p", 3)]
    assert [deps.ledger.wallet(p)["pending"] for p in partners] == [300, 600, 900]
    assert deps.rewards.shards_done("2026-11") == {SHARD}
