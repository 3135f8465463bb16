"""Tiers and milestones under concurrency, on DynamoDB Local: payments crossing a threshold at
once decide the upgrade once and lose none; bindings completing a partner's team at once (the
partner not read: the guard) upgrade once and put them on the roll; completions crossing a cash
milestone at once record and credit it once; the month change racing a payment that re-qualifies
the distributor ends at the tier the final figures give."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules, TierRuleConfig
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_month
from chalicelib.domain.invitations import Milestone
from chalicelib.domain.shards import shard_of
from chalicelib.domain.tier_moves import TierChange
from chalicelib.domain.tiers import Tier
from chalicelib.services import orders, payments, referrals, settlement, shops, tiers
from chalicelib.services.sessions import Caller
from chalicelib.store.rewards import RewardStore
from chalicelib.store.users import PROFILE, UserItem
from tests.conftest import MutableClock
from tests.race.concurrency import login, race
from tests.service.test_orders import ADDRESS

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def with_rules(deps: Deps, **rules: Any) -> Deps:
    deps.settings = deps.settings.model_copy(update={"rules": Rules(**rules)})
    return deps


def product(deps: Deps, price_fen: int, stock: int = 50) -> str:
    product_id = f"p{uuid.uuid4().hex[:10]}"
    deps.products.put_if_absent(Product(product_id, "大件", "beauty", price_fen // 5, price_fen, stock, 2_000, 500),
                                deps.clock())
    return product_id


def shop(deps: Deps, name: str) -> tuple[str, str]:
    user_id = login(deps, name)
    code = shops.open_shop(user_id, f"{name} shop", deps).invite_code
    assert code
    return user_id, code


def placed(deps: Deps, buyer: str, product_id: str) -> str:
    body = {"items": [{"product_id": product_id, "quantity": 1}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, 1)], body, uuid.uuid4().hex, deps).order.order_id


def pay(deps: Deps, order_id: str) -> str:
    order = deps.orders.get(order_id)
    assert order is not None
    headers, body = deps.pay.build_payment_notification(order_id, deps.clock(),  # type: ignore[attr-defined]
                                                        amount_fen=order.amount_fen)
    return payments.handle_notification(headers, body, deps).outcome


def counting_tier_writes(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The users whose tier a committed payment transaction stored (a TierChange that went through)."""
    stored: list[str] = []
    lock = threading.Lock()
    original = deps.orders.mark_paid

    def mark_paid(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        if isinstance(kwargs.get("tier"), TierChange):
            with lock:
                stored.append(kwargs["tier"].user_id)

    monkeypatch.setattr(deps.orders, "mark_paid", mark_paid)
    return stored


def test_ten_payments_crossing_the_sales_threshold_at_once_upgrade_once_and_lose_no_sales(deps, monkeypatch):
    deps = Deps(clock=MutableClock(NOW))
    alice, code = shop(deps, "alice")
    buyers = [login(deps, "b") for _ in range(10)]
    for buyer in buyers:
        referrals.bind(buyer, code, deps)
    item = product(deps, 100_000)  # 1,000 yuan: the fifth crosses 5,000 yuan
    order_ids = [placed(deps, buyer, item) for buyer in buyers]
    stored = counting_tier_writes(deps, monkeypatch)
    assert race([lambda o=o: pay(deps, o) for o in order_ids]) == ["paid"] * 10
    after = deps.users.get(alice)
    assert (after.tier, after.tier_month, after.sales.fen) == (Tier.SENIOR, business_month(NOW), 1_000_000)
    assert stored == [alice]
    assert settlement.wallet_differences(alice, deps) == {}


def test_bindings_completing_a_partners_team_at_once_upgrade_them_once_without_reading_them_first(deps):
    deps = with_rules(Deps(clock=MutableClock(NOW)), tiers=[
        TierRuleConfig(tier=Tier.SENIOR, min_direct=10, min_month_sales_fen=500_000, uplift_bp=500),
        TierRuleConfig(tier=Tier.PARTNER, min_team=5, uplift_bp=1_000)])
    top, top_code = shop(deps, "top")
    mid, mid_code = shop(deps, "mid")
    referrals.bind(mid, top_code, deps)  # top: team 1
    joiners = [login(deps, "j") for _ in range(8)]
    assert race([lambda j=j: referrals.bind(j, mid_code, deps).parent_id for j in joiners]) == [mid] * 8
    upgraded = deps.users.get(top)
    assert (upgraded.member.team_count, upgraded.tier, upgraded.tier_month) == (9, Tier.PARTNER, business_month(NOW))
    assert deps.users.get(mid).tier is Tier.PARTNER  # mid's own team reached 5 among the eight (read: the inviter)
    roll = RewardStore().partners_page(business_month(NOW), shard_of(top), None, 100)[0]
    assert top in roll


def test_completions_crossing_a_cash_milestone_at_once_record_and_credit_it_once(deps):
    deps = with_rules(Deps(clock=MutableClock(NOW)), invitation_ladder=[
        Milestone(invitees=3, reward="cash", cash_fen=5_000)])
    alice, code = shop(deps, "alice")
    item = product(deps, 5_000)
    buyers = [login(deps, "b") for _ in range(6)]
    shipped = []
    for buyer in buyers:
        referrals.bind(buyer, code, deps)
        order_id = placed(deps, buyer, item)
        assert pay(deps, order_id) == "paid"
        orders.ship(order_id, "SF", f"SF{order_id[-8:]}", deps)
        shipped.append((buyer, order_id))
    outcomes = race([lambda b=b, o=o: orders.confirm(o, Caller(b, "user"), deps).status.value for b, o in shipped])
    assert outcomes == ["completed"] * 6
    assert deps.users.get(alice).qualified_invitees == 6
    assert [(m["invitees"], m["credited_at"] is not None) for m in deps.users.milestones(alice)] == [(3, True)]
    assert deps.ledger.wallet(alice)["available"] == 5_000
    assert settlement.wallet_differences(alice, deps) == {}


def test_the_month_change_racing_a_payment_that_requalifies_the_distributor_ends_senior(deps):
    """November fell short, so December's change alone would downgrade her; a December payment
    brings her to the rule again at the same moment. Either order ends senior, decided for
    December: the change first (regular) is followed by the payment's upgrade; the payment first
    (under the guard: she holds senior) leaves the change December's figures to keep her by."""
    december = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    deps = Deps(clock=MutableClock(december))
    for attempt in range(3):  # a few interleavings
        alice, code = shop(deps, f"alice{attempt}")
        buyer = login(deps, "b")
        referrals.bind(buyer, code, deps)
        assert deps.users.set_tier(alice, Tier.SENIOR, "2026-11", expected=Tier.REGULAR, now=december)
        UserItem(alice, PROFILE).update(actions=[UserItem.direct_count.set(10), UserItem.sales_month.set("2026-11"),
                                                 UserItem.month_sales_fen.set(100)])  # November: 1 yuan
        order_id = placed(deps, buyer, product(deps, 500_000))
        read = deps.users.get(alice)
        assert read is not None
        outcomes = race([lambda o=order_id: pay(deps, o),
                         lambda r=read: tiers.change_month(r, "2026-12", december, deps)])
        assert outcomes[0] == "paid" and outcomes[1] in ("downgraded", "kept", "already")
        after = deps.users.get(alice)
        assert (after.tier, after.tier_month, after.sales.fen) == (Tier.SENIOR, "2026-12", 500_000)
