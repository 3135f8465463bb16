"""Settlement under concurrency, on DynamoDB Local: every commission is credited exactly once."""
from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.settlement import seed_frozen
from chalicelib.bootstrap import Deps
from chalicelib.services import orders, payments, referrals, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import buy, new_product

pytestmark = pytest.mark.race


def a_day_of_our_own() -> datetime:
    """A Shanghai midnight no other test uses (the settle_due index is shared by the session)."""
    return datetime(2031, 1, 1, 16, 0, tzinfo=UTC) + timedelta(days=40 * random.randrange(10_000))


def assert_credited_once(deps: Deps, frozen: dict[str, int], prefix: str) -> None:
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}
        assert settlement.wallet_differences(user_id, deps) == {}  # wallet = sum of its entries
    commissions = [i for u in frozen for i in LedgerItem.query(u, LedgerItem.sk.startswith("commission#"))]
    assert len(commissions) == 150 and {c.status for c in commissions} == {"available"}
    assert all(c.settle_day is None for c in commissions)
    settled = [e for u in frozen for e in LedgerItem.query(u, LedgerItem.sk.startswith(f"entry#{prefix}"))
               if e.kind == "settlement"]
    assert len(settled) == 150


def test_two_settlement_runs_at_once_over_150_due_commissions_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"r{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    now = day + timedelta(minutes=10)
    runs = race([lambda: settlement.settle_commissions(now, Deps(), lookback_days=1) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 150
    assert sum(r["settled_fen"] for r in runs) == sum(frozen.values())
    assert all(r["deferred"] == 0 for r in runs)
    assert_credited_once(deps, frozen, prefix)
    assert settlement.settle_commissions(now, deps, lookback_days=1)["settled"] == 0


def test_a_run_killed_half_way_then_two_runs_at_once_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"k{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    due = list(deps.settlement.due(_shanghai_day(day), day))
    assert len(due) == 150
    deps.settlement.settle(due[:40], day)  # the killed run's only committed batch
    now = day + timedelta(hours=5)
    runs = race([lambda: settlement.settle_commissions(now, Deps(), lookback_days=1) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 110
    assert_credited_once(deps, frozen, prefix)


def _shanghai_day(at: datetime) -> str:
    from chalicelib.domain.clock import business_date

    return business_date(at).isoformat()


def test_settlement_racing_refunds_ends_reversed_or_clawed_back_and_wallets_add_up(deps):
    """Ten completed orders, each refunded while the settlement job runs: every commission ends
    reversed (refund first) or clawed back (settlement first), never settled after a reversal,
    and the wallet equals the sum of its entries."""
    seller = login(deps, "s")
    code = shops.open_shop(seller, "shop", deps).invite_code
    assert code
    product_id = new_product(deps, stock=10)
    refunds = []
    for _ in range(10):
        buyer = login(deps, "b")
        referrals.bind(buyer, code, deps)
        order = buy(deps, buyer, product_id).order
        headers, body = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                            amount_fen=order.amount_fen)
        payments.handle_notification(headers, body, deps)
        orders.ship(order.order_id, "SF", "SF123456", deps)
        orders.confirm(order.order_id, Caller(buyer, "user"), deps)
        refunds.append((buyer, order.order_id))
    due = deps.clock() + timedelta(days=3, hours=1)
    calls: list[Callable[[], Any]] = [lambda: settlement.settle_commissions(due, Deps(), lookback_days=5)]

    def refund(i: int, buyer: str, order_id: str) -> str:
        time.sleep(0.04 * i)  # spread the refunds over the job's run: some before, some after it
        return orders.refund(order_id, Caller(buyer, "user"), "退", deps).status.value

    calls += [lambda i=i, b=b, o=o: refund(i, b, o) for i, (b, o) in enumerate(refunds)]
    outcomes = race(calls)
    assert outcomes[1:] == ["refunded"] * 10, outcomes
    statuses = [c.status.value for _, o in refunds for c in deps.ledger.commissions_of_order(o, [(seller, 1)])]
    assert len(statuses) == 10 and set(statuses) <= {"reversed", "clawed_back"}
    assert settlement.wallet_differences(seller, deps) == {}
    assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0,
                                          "withdrawn": 0}
    assert settlement.settle_commissions(due, deps, lookback_days=5)["settled"] == 0
