"""After-sales cases on DynamoDB Local: racing approvals, receipts, buyers' taps and cancels move a
case once and refund once; two partial cases add up to the whole order; and a fault at every
DynamoDB call of an approval and of a receipt, then the same request again, leaves the tables as
a fault-free run (tests/faults.py)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.after_sales import Case, CaseKind, CaseStatus
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.refunds import RefundLine
from chalicelib.services import after_sales, case_refunds, orders, referrals
from chalicelib.services.sessions import Caller
from chalicelib.store.admin import AdminItem
from chalicelib.store.ledger import CommissionStatus
from tests.faults import Case as FaultCase
from tests.faults import restore, run_with_faults
from tests.race.concurrency import race
from tests.service.test_orders import distributor, login, paid_order

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def shipped(deps: Deps, quantity: int = 2, resell: bool = False) -> tuple[str, str, str]:
    """A shipped order of ``quantity`` units (50.00 each) paying a level 1 and a level 2:
    (buyer, order, product)."""
    product_id = f"p{uuid.uuid4().hex[:8]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 20, 2_000, 500,
                                        resell_returns=resell), deps.clock())
    _top, top_code = distributor(deps, f"top{uuid.uuid4().hex[:6]}")
    seller, code = distributor(deps, f"seller{uuid.uuid4().hex[:6]}")
    referrals.bind(seller, top_code, deps)
    buyer = login(deps, f"buyer{uuid.uuid4().hex[:6]}")
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product_id, quantity)
    orders.ship(order_id, "SF", "SF1234567", deps)
    return buyer, order_id, product_id


def opened(deps: Deps, buyer: str, order_id: str, product_id: str, quantity: int = 1,
           kind: CaseKind = CaseKind.REFUND_ONLY) -> Case:
    return after_sales.open_case(order_id, Caller(buyer, "user"),
                                 after_sales.Opening(kind, [RefundLine(product_id, quantity)], "破损"), deps)


def wechat_refunds(deps: Deps, order_id: str) -> dict[str, int]:
    return {no: fen for no, (fen, _) in deps.pay._orders[order_id].refunds.items()}  # type: ignore[attr-defined]


def entries(action: str) -> list[AdminItem]:
    return [item for item in AdminItem.scan() if item.action == action]


def test_five_racing_approvals_of_a_refund_only_case_refund_it_once(deps):
    buyer, order_id, product_id = shipped(deps)
    case = opened(deps, buyer, order_id, product_id)
    results = race([lambda n=n: case_refunds.approve(case.case_id, None, deps, f"admin{n}") for n in range(5)])
    assert all(isinstance(r, Case) and r.status is CaseStatus.REFUNDED for r in results), results
    assert wechat_refunds(deps, order_id) == {case.case_id: 5_000}
    order = deps.orders.get(order_id)
    assert (order.refunded_fen, len(order.refunds), order.status) == (5_000, 1, OrderStatus.SHIPPED)
    assert len(entries("after_sales.approve")) == 1
    assert {(c.level, c.amount_fen, c.reversed_fen) for c in commissions(deps, order_id)} == {
        (1, 1_000, 1_000), (2, 250, 250)}  # one unit of two: level 1 keeps 20 % of 50.00, level 2 5 %


def commissions(deps: Deps, order_id: str) -> list[Any]:
    order = deps.orders.get(order_id)
    return deps.ledger.commissions_of_order(order_id, [(s.user_id, s.level) for s in order.commissions])


def test_five_racing_receipts_of_a_return_refund_it_once_and_restock_once(deps):
    buyer, order_id, product_id = shipped(deps, resell=True)
    case = opened(deps, buyer, order_id, product_id, 2, CaseKind.RETURN_REFUND)
    case_refunds.approve(case.case_id, 9_000, deps, "admin")
    after_sales.ship_return(case.case_id, Caller(buyer, "user"), "中通", "ZT7654321", deps)
    stock = deps.products.get(product_id).stock
    results = race([lambda n=n: case_refunds.receive(case.case_id, deps, f"admin{n}") for n in range(5)])
    assert all(isinstance(r, Case) and r.status is CaseStatus.REFUNDED for r in results), results
    assert wechat_refunds(deps, order_id) == {case.case_id: 9_000}
    assert deps.products.get(product_id).stock == stock + 2
    assert deps.orders.get(order_id).status is OrderStatus.REFUNDED
    assert len(entries("after_sales.receive")) == 1


def test_five_buyer_taps_open_one_case_and_a_cancel_racing_an_approval_ends_one_way(deps):
    buyer, order_id, product_id = shipped(deps)
    results = race([lambda: opened(deps, buyer, order_id, product_id) for _ in range(5)])
    made = [r for r in results if isinstance(r, Case)]
    assert len(made) == 1 and sorted(r for r in results if isinstance(r, str)) == ["CASE_OPEN"] * 4
    case = made[0]
    outcomes = race([lambda: case_refunds.approve(case.case_id, None, deps, "admin"),
                     lambda: after_sales.cancel(case.case_id, Caller(buyer, "user"), deps)])
    final = deps.after_sales.get(case.case_id)
    if final.status is CaseStatus.CANCELLED:
        assert outcomes[0] == "WRONG_CASE_STATUS" and wechat_refunds(deps, order_id) == {}
    else:
        assert final.status is CaseStatus.REFUNDED and outcomes[1] == "WRONG_CASE_STATUS"
        assert wechat_refunds(deps, order_id) == {case.case_id: 5_000}
    assert deps.after_sales.order_cases(order_id)[1].open_case_id is None


def test_two_partial_cases_add_up_to_the_whole_order_and_no_commission_is_kept(deps):
    buyer, order_id, product_id = shipped(deps, quantity=3)
    first = opened(deps, buyer, order_id, product_id, 1)
    race([lambda: case_refunds.approve(first.case_id, None, deps, "admin") for _ in range(3)])
    second = opened(deps, buyer, order_id, product_id, 2, CaseKind.RETURN_REFUND)
    with pytest.raises(DomainError) as more:
        opened(deps, buyer, order_id, product_id, 1)
    assert more.value.code == "CASE_OPEN"
    case_refunds.approve(second.case_id, None, deps, "admin")
    race([lambda: case_refunds.receive(second.case_id, deps, "admin") for _ in range(3)])
    order = deps.orders.get(order_id)
    assert (order.status, order.refunded_fen) == (OrderStatus.REFUNDED, order.amount_fen)
    assert wechat_refunds(deps, order_id) == {first.case_id: 5_000, second.case_id: 10_000}
    kept = commissions(deps, order_id)
    assert len(kept) == 2 and all(c.amount_fen == 0 and c.status is CommissionStatus.REVERSED for c in kept), kept
    assert sum(c.reversed_fen for c in kept) == 3_000 + 750  # every unit back: 20 % and 5 % of 150.00
    with pytest.raises(DomainError) as closed:
        opened(deps, buyer, order_id, product_id, 1)
    assert closed.value.code == "WRONG_ORDER_STATUS"


# Faults at every DynamoDB call of an approval and of a receipt, then the same request again -----------

def approve_setup(deps: Deps) -> str:
    buyer, order_id, product_id = shipped(deps)
    return opened(deps, buyer, order_id, product_id).case_id


def approve(deps: Deps, case_id: str) -> Any:
    return case_refunds.approve(case_id, None, deps, "admin").status.value


def test_a_fault_at_any_call_of_an_approval_then_the_same_request_again_refunds_once(deps, faults):
    calls, endings = run_with_faults(FaultCase(approve_setup, approve, approve), deps, faults)
    assert calls.count("TransactWriteItems") == 2  # the decision, then the money with the case
    assert endings["refunded"] > 0
    for order in deps.pay._orders.values():  # type: ignore[attr-defined]
        assert len(order.refunds) <= 1


def receive_setup(deps: Deps) -> str:
    buyer, order_id, product_id = shipped(deps, resell=True)
    case = opened(deps, buyer, order_id, product_id, 2, CaseKind.RETURN_REFUND)
    case_refunds.approve(case.case_id, 8_000, deps, "admin")
    after_sales.ship_return(case.case_id, Caller(buyer, "user"), "中通", "ZT7654321", deps)
    return case.case_id


def receive(deps: Deps, case_id: str) -> Any:
    return case_refunds.receive(case_id, deps, "admin").status.value


def test_a_fault_at_any_call_of_a_receipt_then_the_same_request_again_refunds_and_restocks_once(deps, faults):
    calls, endings = run_with_faults(FaultCase(receive_setup, receive, receive), deps, faults)
    assert calls.count("TransactWriteItems") == 2
    assert endings["refunded"] > 0
