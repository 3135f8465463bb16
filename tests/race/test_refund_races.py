"""After-sales refunds under concurrency, on DynamoDB Local (services/refunds.py): five racing
calls of one refund refund once; two partial refunds racing to the whole order both commit and
the order ends refunded; a partial refund racing a settlement run leaves each commission paid
exactly what it keeps. The module has tables of its own, emptied before each test (the
settlement job settles everything due in every shard)."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.refunds import RefundLine
from chalicelib.services import orders, payments, referrals, settlement, shops
from chalicelib.services.refunds import partial_refund
from chalicelib.services.sessions import Caller
from chalicelib.store.ledger import LedgerItem, commission_key
from tests.faults import restore
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import new_product
from tests.service.test_orders import ADDRESS
from tests.service.test_settlement import settle

pytestmark = pytest.mark.race


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps()


def shipped_order(deps: Deps, quantity: int, confirm: bool = False) -> tuple[str, str, str]:
    """(seller, buyer, order): ``quantity`` units at 50.00, level 1 earning 20 %."""
    import uuid

    seller = login(deps, "s")
    code = shops.open_shop(seller, "shop", deps).invite_code
    assert code
    buyer = login(deps, "b")
    referrals.bind(buyer, code, deps)
    product_id = new_product(deps, stock=20)
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    order = orders.place_order(buyer, [(product_id, quantity)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                       amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    orders.ship(order.order_id, "SF", "SF123456", deps)
    if confirm:
        orders.confirm(order.order_id, Caller(buyer, "user"), deps)
    return seller, buyer, order.order_id


def units(deps: Deps, order_id: str, n: int) -> list[RefundLine]:
    order = deps.orders.get(order_id)
    assert order is not None
    return [RefundLine(order.lines[0].product_id, n)]


def wechat_refunds(deps: Deps, order_id: str) -> dict[str, int]:
    """What WeChat Pay (the simulator, its state in the tables) holds as refunded, by refund number."""
    return {no: fen for no, (fen, _) in deps.pay._find(order_id).refunds.items()}  # type: ignore[attr-defined]


def test_five_racing_calls_of_one_refund_refund_once(deps):
    seller, _, order_id = shipped_order(deps, 3)
    lines = units(deps, order_id, 2)
    outcomes = race([lambda: partial_refund(order_id, "case-a", lines, 9_000, deps, reason="坏了")
                     for _ in range(5)])
    assert sorted(o.replayed for o in outcomes) == [False, True, True, True, True], outcomes
    assert wechat_refunds(deps, order_id) == {"case-a": 9_000}
    order = deps.orders.get(order_id)
    assert order is not None and order.refunded_fen == 9_000 and len(order.refunds) == 1
    assert deps.ledger.wallet(seller)["pending"] == 1_000
    assert settlement.wallet_differences(seller, deps) == {}


def test_two_partial_refunds_racing_to_the_whole_order_both_commit_and_refund_it(deps):
    seller, _, order_id = shipped_order(deps, 3)
    outcomes = race([lambda: partial_refund(order_id, "case-a", units(deps, order_id, 1), 5_000, deps, reason="a"),
                     lambda: partial_refund(order_id, "case-b", units(deps, order_id, 2), 10_000, deps, reason="b")])
    assert [o.replayed for o in outcomes] == [False, False], outcomes
    order = deps.orders.get(order_id)
    assert order is not None
    assert (order.status.value, order.refunded_fen) == ("refunded", 15_000)
    assert wechat_refunds(deps, order_id) == {"case-a": 5_000, "case-b": 10_000}
    item = LedgerItem.get(seller, commission_key(order_id, 1), consistent_read=True)
    assert (item.status, item.amount_fen, item.reversed_fen) == ("reversed", 0, 3_000)
    assert deps.ledger.wallet(seller)["pending"] == 0
    assert settlement.wallet_differences(seller, deps) == {}


def test_partial_refunds_racing_a_settlement_run_leave_each_commission_paid_what_it_keeps(deps):
    """Eight completed orders of 3 units, one unit of each refunded while the job runs: a
    commission settled first is clawed back by a third, one refunded first settles (this run or
    the next) at two thirds; in the end every seller holds 2,000 available per order."""
    completed = [shipped_order(deps, 3, confirm=True) for _ in range(8)]
    due = deps.clock() + timedelta(days=3, hours=1)
    calls: list[Callable[[], Any]] = [lambda: settle(due, Deps())]

    def refund(i: int, order_id: str) -> bool:
        time.sleep(0.03 * i)  # spread over the job's run
        return partial_refund(order_id, f"case-{i}", units(deps, order_id, 1), 5_000, deps, reason="退").replayed

    calls += [lambda i=i, o=o: refund(i, o) for i, (_, _, o) in enumerate(completed)]
    outcomes = race(calls)
    assert outcomes[1:] == [False] * 8, outcomes
    settle(due + timedelta(seconds=1), deps)  # what a refund made the first run skip
    for seller, _, order_id in completed:
        item = LedgerItem.get(seller, commission_key(order_id, 1), consistent_read=True)
        assert (item.status, item.amount_fen, item.reversed_fen) == ("available", 2_000, 1_000)
        assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 2_000, "withdrawing": 0,
                                              "withdrawn": 0}
        assert settlement.wallet_differences(seller, deps) == {}
    assert settle(due + timedelta(seconds=2), deps)["settled"] == 0
