"""Settlement under concurrency, on DynamoDB Local: every commission is credited exactly once.

The job settles everything due by its instant in every shard (no look-back), so this module has
tables of its own (``tests/faults.own_tables``), emptied before each test: another module's
commissions, due long ago, are not this module's to count."""
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
from chalicelib.domain.shards import SHARDS
from chalicelib.services import orders, payments, referrals, settlement, shops
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import DueCommission, LedgerItem
from tests.faults import restore
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import buy, new_product
from tests.refunds import refund_whole
from tests.service.test_settlement import settle

pytestmark = pytest.mark.race


@pytest.fixture
def deps(private_tables: None) -> Deps:
    """The app's adapters over this module's tables, emptied."""
    restore({})
    return Deps()


def a_day_of_our_own() -> datetime:
    """A Shanghai midnight, some day in the future."""
    return datetime(2031, 1, 1, 16, 0, tzinfo=UTC) + timedelta(days=40 * random.randrange(10_000))


def all_due(deps: Deps, now: datetime) -> list[DueCommission]:
    due: list[DueCommission] = []
    for shard in SHARDS:
        cursor: str | None = None
        while True:
            page, cursor = deps.settlement.due(shard, now, cursor)
            due += page
            if cursor is None:
                break
    return due


def assert_credited_once(deps: Deps, frozen: dict[str, int], prefix: str, n: int = 150) -> None:
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}
        assert settlement.wallet_differences(user_id, deps) == {}  # wallet = sum of its entries
    commissions = [i for u in frozen for i in LedgerItem.query(u, LedgerItem.sk.startswith("commission#"))]
    assert len(commissions) == n and {c.status for c in commissions} == {"available"}
    assert all(c.settle_shard is None for c in commissions)
    settled = [e for u in frozen for e in LedgerItem.query(u, LedgerItem.sk.startswith(f"entry#{prefix}"))
               if e.kind == "settlement"]
    assert len(settled) == n


def test_two_settlement_runs_at_once_over_150_due_commissions_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"r{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    now = day + timedelta(minutes=10)
    runs = race([lambda: settle(now, Deps()) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 150
    assert sum(r["settled_fen"] for r in runs) == sum(frozen.values())
    assert all(r["deferred"] == 0 for r in runs)
    assert_credited_once(deps, frozen, prefix)
    assert settle(now, deps)["settled"] == 0


def test_two_runs_at_once_one_page_per_slice_over_three_crowded_shards_credit_each_exactly_once(deps):
    """450 commissions of 9 users in shards 3, 4 and 5 (150 each: two pages), both runs handing
    their parts back after every page, so their slices interleave page by page."""
    day, prefix = a_day_of_our_own(), f"p{uuid.uuid4().hex[:6]}"
    frozen: dict[str, int] = {}
    for shard in "345":
        frozen |= seed_frozen(150, users=3, prefix=f"{prefix}{shard}", available_at=day, shard=shard)
    now = day + timedelta(minutes=10)
    runs = race([lambda: settle(now, Deps(), slice_budget=0) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 450
    assert sum(r["settled_fen"] for r in runs) == sum(frozen.values())
    for shard in "345":
        assert_credited_once(deps, {u: f for u, f in frozen.items() if u.endswith(shard)}, f"{prefix}{shard}")
    assert all_due(deps, now) == []


def test_a_run_killed_half_way_then_two_runs_at_once_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"k{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    due = all_due(deps, day)
    assert len(due) == 150
    deps.settlement.settle(due[:40], day)  # the killed run's only committed batch
    now = day + timedelta(hours=5)
    runs = race([lambda: settle(now, Deps()) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 110
    assert_credited_once(deps, frozen, prefix)


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
    calls: list[Callable[[], Any]] = [lambda: settle(due, Deps())]

    def refund(i: int, buyer: str, order_id: str) -> str:
        time.sleep(0.04 * i)  # spread the refunds over the job's run: some before, some after it
        return refund_whole(order_id, deps).status.value  # completed: an after-sales case's refund

    calls += [lambda i=i, b=b, o=o: refund(i, b, o) for i, (b, o) in enumerate(refunds)]
    outcomes = race(calls)
    assert outcomes[1:] == ["refunded"] * 10, outcomes
    statuses = [c.status.value for _, o in refunds for c in deps.ledger.commissions_of_order(o, [(seller, 1)])]
    assert len(statuses) == 10 and set(statuses) <= {"reversed", "clawed_back"}
    assert settlement.wallet_differences(seller, deps) == {}
    assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0,
                                          "withdrawn": 0}
    assert settle(due, deps)["settled"] == 0
