"""A flash sale on DynamoDB Local: 500 bound buyers, 32 threads, 50 units.

The referral tree has ten distributors on three levels (top ← 3 regional ← 6 local), so buyers
of a local distributor pay their local (level 1) and regional (level 2) distributor, and never
the top one (a third level). Every buyer checks out once, as a client would: a 503 TRY_AGAIN is
retried with the same Idempotency-Key. Every winner's payment notification is delivered twice at
once (WeChat's duplicates), a 503 redelivered. Then: exactly 50 paid orders, stock 0, 450
OUT_OF_STOCK, every commission present once, wallets = ledgers, counters moved once.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.errors import DomainError
from chalicelib.services import auth, payments, referrals, shops
from tests.faults import own_tables
from tests.race.invariants import Report, check_counters, check_ledgers, check_orders, check_stock, orders_of
from tests.race.test_checkout_races import buy, new_product

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def own(dynamodb_local: Any) -> Iterator[None]:
    """Tables of this module's own: what the run leaves (open groups, unpaid orders, withdrawals
    in flight, due commissions) is no other test's work, nor theirs this one's."""
    with own_tables(dynamodb_local.endpoint):
        yield


@pytest.fixture
def deps(own: None) -> Deps:
    return Deps()


BUYERS, UNITS, THREADS = 500, 50, 32


def in_threads[T](calls: Iterable[Callable[[], T]], threads: int = THREADS) -> list[T]:
    """Run the calls on ``threads`` workers, all released at the same moment."""
    start = threading.Event()
    calls = list(calls)

    def run(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(run, call) for call in calls]
        start.set()
        return [f.result() for f in futures]


def until_not_busy[T](call: Callable[[], T], tries: Counter[str]) -> T | str:
    """A client's loop: a TRY_AGAIN (503) is retried with the same request; any other refusal is
    the outcome (its code)."""
    for _ in range(50):
        try:
            return call()
        except DomainError as exc:
            if exc.code != "TRY_AGAIN":
                return exc.code
            tries["TRY_AGAIN"] += 1
            time.sleep(0.01)
    raise AssertionError("still busy after 50 tries")


def distributor(deps: Deps, name: str, parent_code: str | None) -> tuple[str, str]:
    user_id = auth.login(f"dev:{name}", deps).user.user_id
    code = shops.open_shop(user_id, f"{name} shop", deps).invite_code
    assert code
    if parent_code:
        referrals.bind(user_id, parent_code, deps)
    return user_id, code


def build_tree(deps: Deps, run: str) -> tuple[list[tuple[str, str]], dict[str, tuple[str | None, str | None]]]:
    """Ten distributors: top ← 3 regional ← 2 local each. Returns them (id, code) and each one's
    (parent, grandparent)."""
    top = distributor(deps, f"fs{run}top", None)
    regional = [distributor(deps, f"fs{run}r{i}", top[1]) for i in range(3)]
    local = [distributor(deps, f"fs{run}l{i}", regional[i // 2][1]) for i in range(6)]
    links: dict[str, tuple[str | None, str | None]] = {top[0]: (None, None)}
    links.update({r[0]: (top[0], None) for r in regional})
    links.update({d[0]: (regional[i // 2][0], top[0]) for i, d in enumerate(local)})
    return [top, *regional, *local], links


def test_a_flash_sale_of_50_units_to_500_bound_buyers_sells_exactly_50_and_pays_each_commission_once(deps):
    run = uuid.uuid4().hex[:6]
    tree, links = build_tree(deps, run)
    product_id = new_product(deps, stock=UNITS)
    tries: Counter[str] = Counter()

    def new_buyer(i: int) -> str:
        buyer = auth.login(f"dev:fs{run}b{i}", deps).user.user_id
        outcome = until_not_busy(lambda: referrals.bind(buyer, tree[i % len(tree)][1], deps), tries)
        assert not isinstance(outcome, str), outcome
        return buyer

    buyers = in_threads([lambda i=i: new_buyer(i) for i in range(BUYERS)], threads=8)

    started = time.perf_counter()
    placed = in_threads([lambda b=b: until_not_busy(lambda: buy(deps, b, product_id), tries) for b in buyers])
    checkout_seconds = time.perf_counter() - started
    outcomes = Counter(o if isinstance(o, str) else "ORDERED" for o in placed)
    assert outcomes == {"ORDERED": UNITS, "OUT_OF_STOCK": BUYERS - UNITS}

    notifications = []
    for checkout in placed:
        if not isinstance(checkout, str):
            order = checkout.order
            notifications.append(deps.pay.build_payment_notification(  # type: ignore[attr-defined]
                order.order_id, deps.clock(), amount_fen=order.amount_fen))
    started = time.perf_counter()
    answers = in_threads([lambda h=h, b=b: until_not_busy(lambda: payments.handle_notification(h, b, deps).outcome,
                                                          tries)
                          for h, b in notifications * 2])
    pay_seconds = time.perf_counter() - started
    assert Counter(answers) == {"paid": UNITS, "already_paid": UNITS}

    orders = orders_of(buyers)
    report = Report()
    expected = check_orders(orders, report)
    assert report.orders == {"paid": UNITS}
    assert check_stock(deps, product_id, UNITS, orders) == UNITS
    assert deps.products.get(product_id).stock == 0
    payees = [d for d, _ in tree]
    check_ledgers(deps, orders, expected, payees, report)
    check_counters(deps, orders)
    for order in orders:  # both levels of the buyer's own upline, never the top one for a local's buyer
        parent = deps.users.get(order.buyer_id).member.parent_id
        assert (order.upline.level1, order.upline.level2) == (parent, links[parent][0])
    assert len(expected) == sum(2 if links[o.upline.level1 or ""][0] else 1 for o in orders)
    assert report.commissions == {"pending": len(expected)}
    print(f"\nflash sale: {BUYERS} buyers, {THREADS} threads: checkouts {checkout_seconds:.1f} s, "
          f"{2 * UNITS} notifications {pay_seconds:.1f} s, client retries on TRY_AGAIN: {tries['TRY_AGAIN']}, "
          f"commissions {len(expected)}, paid {report.paid_fen} fen = commission {report.commission_fen} "
          f"+ cost + profit {report.profit_fen}")
