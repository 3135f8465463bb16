"""A fault at every DynamoDB call of an after-sales refund (services/refunds.py), on DynamoDB
Local; after the same call again (the case's retry: the same refund number), every table equals
a fault-free run's (tests/faults.py). WeChat Pay is the simulator, whose state lives in the
tables: its calls are among the faulted ones (a refund WeChat made whose answer was lost, one it
refused undone). Two cases: units of a shipped order with stock back and the caller's own items
(an audit entry, a change of the order item) in the transaction; units of a completed order
whose commissions were settled (clawed back).

Faults of the real Pay client over HTTP (a lost answer, a 5xx before or after WeChat refunded)
are in tests/service/test_partial_refund_faults.py."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.refunds import RefundLine
from chalicelib.services import orders
from chalicelib.services.refunds import partial_refund
from chalicelib.services.sessions import Caller
from chalicelib.store.audit import entry_put
from chalicelib.store.order_items import OrderItem, OrderPart
from tests.conftest import MutableClock
from tests.faults import Case, restore, run_with_faults
from tests.race.test_faults import bound_buyer, deliver, new_product, notification
from tests.service.test_settlement import settle

pytestmark = pytest.mark.race

START = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(START)


@pytest.fixture
def deps(private_tables: None, clock: MutableClock) -> Deps:
    restore({})
    return Deps(clock=clock)


def shipped(deps: Deps) -> tuple[str, str, str]:
    """(buyer, order, product): 2 units, two payees, shipped."""
    buyer = bound_buyer(deps, "buyer")
    product_id = new_product(deps)
    body = {"items": [{"product_id": product_id, "quantity": 2}], "address": {"name": "买家", "phone": "13800000000",
                                                                               "detail": "北京"}}
    order = orders.place_order(buyer, [(product_id, 2)], body, "fault-key-0001", deps).order
    assert deliver(deps, notification(deps, order.order_id)) == "paid"
    orders.ship(order.order_id, "SF", "SF123456", deps)
    return buyer, order.order_id, product_id


def act_with_parts(deps: Deps, context: tuple[str, str, str]) -> Any:
    _, order_id, product_id = context
    entry = audit("admin", Action.ORDER_SHIP, f"order#{order_id}", deps.clock(), after={"refund": "case-1"})
    part = OrderPart((OrderItem.report_error.set("case-1 refunded"),), OrderItem.report_error.does_not_exist())
    done = partial_refund(order_id, "case-1", [RefundLine(product_id, 1)], 4_000, deps, reason="坏了",
                          restock=[RefundLine(product_id, 1)], order_part=part,
                          extra=lambda tx: entry_put(tx, entry))
    return "replayed" if done.replayed else "refunded"


def test_a_fault_at_any_call_of_a_partial_refund_then_the_same_call_again_refunds_once(deps, faults):
    calls, endings = run_with_faults(Case(shipped, act_with_parts, act_with_parts), deps, faults)
    assert "TransactWriteItems" in calls
    assert endings["crashed"] == len(calls) + 1
    order_id = next(iter(deps.pay._orders))  # type: ignore[attr-defined]
    assert list(deps.pay._find(order_id).refunds) == ["case-1"]  # type: ignore[attr-defined]


def act_clawback(deps: Deps, context: tuple[str, str, str]) -> Any:
    _, order_id, product_id = context
    done = partial_refund(order_id, "case-2", [RefundLine(product_id, 1)], 5_000, deps, reason="坏了")
    return "replayed" if done.replayed else "refunded"


def test_a_fault_at_any_call_of_a_partial_refund_clawing_back_settled_commissions_recovers_exactly(
        deps, faults, clock):
    def settled(d: Deps) -> tuple[str, str, str]:
        buyer, order_id, product_id = shipped(d)
        orders.confirm(order_id, Caller(buyer, "user"), d)
        clock.advance(days=4)
        assert settle(clock(), d)["settled"] == 2
        return buyer, order_id, product_id

    calls, _ = run_with_faults(Case(settled, act_clawback, act_clawback), deps, faults)
    assert "TransactWriteItems" in calls


def test_the_same_refund_arriving_before_or_after_any_call_of_another_refunds_and_counts_once(deps, faults):
    """A racing click (the same case's refund) run right before and right after each DynamoDB
    call of the first: one WeChat refund, one record, the caller's items once."""
    calls, endings = run_with_faults(Case(shipped, act_with_parts, act_with_parts), deps, faults,
                                     duplicate=act_with_parts)
    assert "TransactWriteItems" in calls and set(endings) <= {"refunded", "replayed"}, endings


def test_a_transaction_conflict_at_any_write_of_a_partial_refund_is_sent_again_and_changes_nothing_more(
        deps, faults):
    from tests.faults import run_with_conflicts

    calls = run_with_conflicts(Case(shipped, act_with_parts, act_with_parts), deps, faults)
    assert "TransactWriteItems" in calls
