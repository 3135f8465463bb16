"""Carrier tracking on DynamoDB Local (docs/delivery.md): the delivered push racing a refund and
the buyer's confirmation, five copies of one push at once, and a fault at every DynamoDB call of
a push followed by 快递100's retry of it (tests/faults.py)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.clock import business_date
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.tracking import TrackState, order_subject
from chalicelib.services import delivery, orders
from chalicelib.services.sessions import Caller
from chalicelib.store.order_items import OrderItem
from tests.faults import Case, restore, run_with_faults
from tests.race.concurrency import race
from tests.race.test_fulfilment_races import NOW, Ticking, paid
from tests.refunds import refund_whole

pytestmark = pytest.mark.race

@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=Ticking())


def shipped_and_delivered_push(deps: Deps) -> tuple[str, bytes]:
    """A shipped order and the push 快递100 sends when its carrier delivers it (not yet sent)."""
    order_id = paid(deps)
    orders.ship(order_id, "ZTO", "ZT1234567", deps, "u-admin")
    tracking = deps.tracking.get(order_subject(order_id))
    assert tracking is not None
    _, form = deps.tracker.play(tracking.company, tracking.tracking_no, "delivered",  # type: ignore[union-attr]
                                NOW + timedelta(hours=20))
    return order_id, urlencode(form).encode()


def push(deps: Deps, order_id: str, body: bytes) -> str:
    return delivery.handle_push(order_subject(order_id), body, deps)


def delivered_count(deps: Deps) -> int:
    day = business_date(NOW)
    return int(deps.analytics.day_counts([day])[day].get("delivered", 0))


def test_the_delivered_push_racing_a_refund_and_the_buyers_confirmation_records_each_once(deps):
    order_id, body = shipped_and_delivered_push(deps)
    buyer = Caller(deps.orders.get(order_id).buyer_id, "user")
    results = race([lambda: push(deps, order_id, body),
                    lambda: orders.confirm(order_id, buyer, deps).status.value,
                    lambda: refund_whole(order_id, deps).status.value])  # after shipment: a case's refund
    assert results[0] == "applied" and results[2] == "refunded"
    order, item = deps.orders.get(order_id), OrderItem.get(order_id, consistent_read=True)
    tracking = deps.tracking.get(order_subject(order_id))
    assert order.status is OrderStatus.REFUNDED and order.delivered_at == tracking.delivered_at is not None
    assert (item.confirm_day, item.confirm_due_key) == (None, None)  # no automatic confirmation left behind
    assert tracking.state is TrackState.DELIVERED and delivered_count(deps) == 1


def test_the_delivered_push_racing_the_buyers_confirmation_leaves_a_completed_order_with_its_delivery(deps):
    order_id, body = shipped_and_delivered_push(deps)
    buyer = Caller(deps.orders.get(order_id).buyer_id, "user")
    results = race([lambda: push(deps, order_id, body), lambda: orders.confirm(order_id, buyer, deps).status.value])
    assert results == ["applied", "completed"]
    order, item = deps.orders.get(order_id), OrderItem.get(order_id, consistent_read=True)
    assert order.status is OrderStatus.COMPLETED and order.delivered_at is not None
    assert item.confirm_day is None and delivered_count(deps) == 1


def test_five_copies_of_one_push_at_once_apply_it_once(deps):
    order_id, body = shipped_and_delivered_push(deps)
    results = race([lambda: push(deps, order_id, body) for _ in range(5)])
    assert sorted(results) == ["applied"] + ["unchanged"] * 4
    assert deps.tracking.get(order_subject(order_id)).version == 3  # written by: ship, subscription, one push
    assert delivered_count(deps) == 1


def test_a_fault_at_any_call_of_a_push_then_kuaidi100s_retry_records_the_delivery_once(deps, faults):
    def act(d: Deps, context: Any) -> Any:
        return push(d, *context)

    calls, endings = run_with_faults(Case(shipped_and_delivered_push, act, act), deps, faults)
    assert calls[:3] == ["GetItem", "GetItem", "TransactWriteItems"]  # tracking, order, tracking + order
    assert endings["crashed"] == len(calls) + 1
