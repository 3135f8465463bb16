"""Rewards under concurrency, on DynamoDB Local: two team-bonus runs at once accrue each partner's
bonus once; refunds racing the accrual, and refunds racing the settlement of the bonus, take each
refunded order's share back exactly once and leave every wallet equal to its entries."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.tiers import Tier
from chalicelib.jobs import run_job
from chalicelib.services import orders, payments, referrals, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem, team_bonus_key, team_sales_key
from tests.conftest import MutableClock
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import buy, new_product
from tests.service.test_settlement import settle

pytestmark = pytest.mark.race


def a_month_of_our_own() -> tuple[str, datetime]:
    """A May no other test uses (the database and the job's month mark are shared by the session),
    and 00:30 Shanghai on June 1st, when its team bonus runs."""
    year = 2040 + random.randrange(500)
    return f"{year}-05", datetime(year, 5, 31, 16, 30, tzinfo=UTC)


def test_two_team_bonus_runs_at_once_accrue_each_partner_exactly_once(deps):
    month, now = a_month_of_our_own()
    partners = []
    for i in range(6):
        user_id = login(deps, "partner")
        shops.open_shop(user_id, "shop", deps)
        assert deps.users.set_tier(user_id, Tier.PARTNER, month, expected=Tier.REGULAR)
        LedgerItem(user_id, team_sales_key(month), amount_fen=100_000 * (i + 1)).save()
        partners.append(user_id)
    runs = race([lambda: run_job("team_bonus", now, Deps()) for _ in range(2)])
    assert all(isinstance(r, dict) for r in runs), runs
    assert sum(r["paid"] for r in runs) == 6
    assert sum(r["paid_fen"] for r in runs) == 3_000 * 21
    for i, user_id in enumerate(partners):
        assert deps.ledger.wallet(user_id)["pending"] == 3_000 * (i + 1)
        assert deps.ledger.wallet(user_id)["available"] == 0
        assert [e["kind"] for e in deps.ledger.entries(user_id)] == ["team_bonus"]
        assert settlement.wallet_differences(user_id, deps) == {}
    assert run_job("team_bonus", now, deps)["paid"] == 0


def partner_with_paid_orders(n: int) -> tuple[Deps, MutableClock, str, str, list[tuple[str, str]]]:
    """A partner of a month of our own with ``n`` paid orders of 50 yuan as level 1 (3% = 150 fen
    of bonus each); the clock at the bonus job's run. Returns (deps, clock, month, partner,
    [(buyer, order)])."""
    month, run_at = a_month_of_our_own()
    clock = MutableClock(run_at - timedelta(days=20))
    deps = Deps(clock=clock)
    partner = login(deps, "partner")
    code = shops.open_shop(partner, "shop", deps).invite_code
    assert code and deps.users.set_tier(partner, Tier.PARTNER, month, expected=Tier.REGULAR)
    product_id = new_product(deps, stock=n)
    paid = []
    for _ in range(n):
        buyer = login(deps, "b")
        referrals.bind(buyer, code, deps)
        order = buy(deps, buyer, product_id).order
        headers, body = deps.pay.build_payment_notification(order.order_id, clock(),  # type: ignore[attr-defined]
                                                            amount_fen=order.amount_fen)
        payments.handle_notification(headers, body, deps)
        paid.append((buyer, order.order_id))
    clock.at = run_at
    return deps, clock, month, partner, paid


def refunding(deps: Deps, spread: float) -> Callable[[int, str, str], str]:
    def refund(i: int, buyer: str, order_id: str) -> str:
        time.sleep(spread * i)  # spread the refunds over the other run: some before, some after
        return orders.refund(order_id, Caller(buyer, "user"), "退", deps).status.value
    return refund


def test_refunds_racing_the_accrual_leave_the_bonus_of_the_sales_kept(deps):
    """Five of ten orders refunded while the bonus job runs: a refund first lowers the sales the
    bonus accrues on, an accrual first has the refund take the share back; either way the bonus is
    3% of the 25,000 kept, and the wallet equals its entries."""
    deps, _, month, partner, paid = partner_with_paid_orders(10)
    refund = refunding(deps, 0.02)
    calls: list[Callable[[], Any]] = [lambda: run_job("team_bonus", deps.clock(), deps)]
    calls += [lambda i=i, b=b, o=o: refund(i, b, o) for i, (b, o) in enumerate(paid[:5])]
    outcomes = race(calls)
    assert outcomes[1:] == ["refunded"] * 5, outcomes
    assert LedgerItem.get(partner, team_sales_key(month), consistent_read=True).amount_fen == 25_000
    assert LedgerItem.get(partner, team_bonus_key(month), consistent_read=True).amount_fen == 750
    assert deps.ledger.wallet(partner)["pending"] == 750 + 5 * 1_500  # the bonus and the kept orders' commissions
    assert settlement.wallet_differences(partner, deps) == {}


def test_refunds_racing_the_settlement_of_the_bonus_take_each_share_back_once(deps):
    """Ten orders behind a 1,500 fen bonus, each refunded while settlement runs on the bonus's day:
    each share is reversed from pending (refund first) or clawed back from available (settlement
    first); a settlement that meets a reversed amount leaves the bonus for the next run, which
    settles what is left, once. Nothing is left and the wallet equals its entries."""
    deps, clock, month, partner, paid = partner_with_paid_orders(10)
    assert run_job("team_bonus", clock(), deps)["paid_fen"] == 1_500
    due = clock() + timedelta(days=3)  # June 4th, 00:30 Shanghai: the hold (3 days) after May
    clock.at = due
    refund = refunding(deps, 0.04)
    calls: list[Callable[[], Any]] = [lambda: settle(due, Deps())]
    calls += [lambda i=i, b=b, o=o: refund(i, b, o) for i, (b, o) in enumerate(paid)]
    outcomes = race(calls)
    assert outcomes[1:] == ["refunded"] * 10, outcomes
    settle(due, deps)  # what a refund kept from settling
    bonus = LedgerItem.get(partner, team_bonus_key(month), consistent_read=True)
    assert (bonus.status, bonus.amount_fen, bonus.settle_shard) == ("available", 0, None)
    entries = deps.ledger.entries(partner)
    taken_back = [e for e in entries if e["kind"] in ("team_bonus_reversal", "team_bonus_clawback")]
    assert sorted(e["order_id"] for e in taken_back) == sorted(o for _, o in paid)  # each order once
    assert all(e["amount_fen"] == 150 for e in taken_back)
    assert [e["sk"] for e in entries if e["kind"] == "settlement"] == [f"entry#teambonus#{month}#0#settlement"]
    assert deps.ledger.wallet(partner) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0,
                                           "withdrawn": 0}
    assert settlement.wallet_differences(partner, deps) == {}
    assert settle(due, deps)["settled"] == 0
