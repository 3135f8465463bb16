"""Shipping on DynamoDB Local: two batches shipping the same order at once, a fault at every
DynamoDB call of a ship and of the report job, and WeChat down at ship (tests/faults.py)."""
from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DomainError
from chalicelib.domain.fulfilment import ReportState
from chalicelib.jobs.engine import Deadline
from chalicelib.services import orders, payments
from chalicelib.services.fulfilment import ship_batch
from chalicelib.store.admin import AdminItem
from tests.faults import Case, restore, run_with_faults
from tests.race.concurrency import race
from tests.service.test_orders import ADDRESS, login

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


class Ticking:
    """A clock one millisecond later at each reading: WeChat orders reports by their upload_time."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return NOW + timedelta(milliseconds=next(self._ticks))


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=Ticking())


def paid(deps: Deps) -> str:
    product_id = f"p{uuid.uuid4().hex[:8]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 20, 2_000, 500), deps.clock())
    buyer = login(deps, f"buyer{uuid.uuid4().hex[:6]}")
    body = {"items": [{"product_id": product_id, "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [(product_id, 1)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                       amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    return order.order_id


def ship_entries() -> list[AdminItem]:
    return [item for item in AdminItem.scan() if item.action == "order.ship"]


def test_two_batches_shipping_the_same_order_at_once_ship_it_once_with_one_entry_and_one_report(deps):
    order_id = paid(deps)
    results = race([lambda n=n: ship_batch([(order_id, "SF", "SF1234567")], f"u-admin{n}", deps)[0]
                    for n in range(6)])
    assert all(r.order is not None and r.order.status.value == "shipped" for r in results)
    assert len(ship_entries()) == 1
    assert len(deps.shipping.reports(order_id)) == 1  # type: ignore[attr-defined]
    assert deps.orders.get(order_id).shipping_report.state is ReportState.REPORTED


def test_two_batches_with_different_tracking_one_ships_the_other_is_already_shipped(deps):
    order_id = paid(deps)
    results = race([lambda n=n: ship_batch([(order_id, "SF", f"SF000000{n}")], "u-admin", deps)[0]
                    for n in range(4)])
    codes = sorted(r.error.code if r.error else "shipped" for r in results)
    assert codes == ["ALREADY_SHIPPED"] * 3 + ["shipped"]
    winner = next(r for r in results if r.error is None)
    assert deps.orders.get(order_id).tracking_no == winner.order.tracking_no
    assert len(ship_entries()) == 1 and len(deps.shipping.reports(order_id)) == 1  # type: ignore[attr-defined]


def report_job(deps: Deps, name: str = "report_shipments") -> dict[str, int]:
    """Every part of ``report_shipments`` (or another job) an hour later (every report due),
    without the engine's bookkeeping (as tests/race/test_faults.py's ``every_part``)."""
    from chalicelib.jobs import JOBS

    job, totals = JOBS[name], {}
    later = NOW + timedelta(hours=1)
    for part in job.plan(later, deps):
        cursor = None
        while True:
            progress = job.work(part, cursor, later, deps, Deadline.after(60))
            for name, value in progress.counts.items():
                totals[name] = totals.get(name, 0) + value
            if (cursor := progress.cursor) is None:
                break
    return totals


def ship(deps: Deps, order_id: str) -> Any:
    try:
        return orders.ship(order_id, "SF", "SF1234567", deps, "u-admin")
    except DomainError as exc:
        return exc.code


def ship_then_report(deps: Deps, order_id: str) -> Any:
    """What the world does next: the operator sends the line again, the jobs run (the WeChat
    report's, and the carrier tracking's: a subscription the crash left pending)."""
    ship(deps, order_id)
    report_job(deps, "track_parcels")
    return report_job(deps)


def test_a_fault_at_any_call_of_a_ship_then_the_line_again_and_the_job_ship_and_report_once(deps, faults):
    calls, endings = run_with_faults(Case(paid, ship, ship_then_report), deps, faults)
    assert calls[:2] == ["GetItem", "TransactWriteItems"]
    assert "UpdateItem" in calls  # the report's outcome, after the ship transaction
    assert endings["crashed"] == len(calls) + 1


def shipped_while_wechat_down(deps: Deps) -> str:
    order_id = paid(deps)
    deps.shipping.fail(None)  # type: ignore[attr-defined]
    report = orders.ship(order_id, "SF", "SF1234567", deps, "u-admin").shipping_report
    assert report is not None and (report.state, report.attempts) == (ReportState.PENDING, 1)
    return order_id


def test_wechat_down_at_ship_then_a_fault_at_any_call_of_the_job_reports_it_once(deps, faults):
    calls, _ = run_with_faults(Case(shipped_while_wechat_down, lambda d, _: report_job(d),
                                    lambda d, _: report_job(d)), deps, faults)
    assert "Query" in calls and "UpdateItem" in calls
    order = deps.orders.get(AdminItem.scan().next().target.removeprefix("order#"))
    assert order.shipping_report.state is ReportState.REPORTED and order.shipping_report.attempts == 2


def test_a_lane_position_outside_its_bounds_reads_from_the_bound_instead_of_failing(deps):
    """DynamoDB refuses a start key outside the query's key condition (moto does not): a cursor's
    position newer than the lane's bound reads from the bound, an older one has nothing left."""
    from chalicelib.domain.fulfilment import Lane
    from tests.service.test_fulfilment import bare_order

    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 20, 2_000, 500), deps.clock())
    first, second = bare_order(deps, 1, "u-buyer"), bare_order(deps, 2, "u-buyer")
    lane = Lane("by_buyer", "u-buyer", since=NOW - timedelta(hours=1), until=NOW + timedelta(hours=1))
    newer = f"2099-01-01T00:00:00Z#{second.order_id}"
    older = f"2000-01-01T00:00:00Z#{first.order_id}"
    assert sorted(k.partition("#")[2] for k in deps.orders.lane_keys(lane, newer, 5)) == sorted(
        [first.order_id, second.order_id])
    assert deps.orders.lane_keys(lane, older, 5) == []
