"""The admin order list, batch shipping and WeChat's shipping report, on moto."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bench.meter import DynamoMeter
from chalicelib.bootstrap import Deps
from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import DomainError
from chalicelib.domain.fulfilment import MAX_ATTEMPTS, PAGE_QUERIES, ReportState
from chalicelib.domain.orders import Line, Order, OrderStatus
from chalicelib.jobs import run_job
from chalicelib.services import auth, orders, payments, referrals, shops
from chalicelib.services.fulfilment import OrderFilter, list_orders, ship_batch
from chalicelib.store.admin import AdminItem
from chalicelib.store.tables import all_models
from tests.refunds import refund_whole

ADDRESS = {"name": "买家", "phone": "13800001234", "detail": "北京"}


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 100_000, 2_000, 500), deps.clock())
    return "p1"


def login(deps: Deps, name: str) -> str:
    return auth.login(f"dev:{name}", deps).user.user_id


def paid_order(deps: Deps, buyer: str, product: str) -> str:
    body = {"items": [{"product_id": product, "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [(product, 1)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    return order.order_id


def bare_order(deps: Deps, n: int, buyer: str = "u-buyer", upline: Upline | None = None) -> Order:
    """An order awaiting payment created at the clock's time, written directly (fast): its id ends
    in ``n``'s hex digit, so consecutive orders land in consecutive shards."""
    now = deps.clock()
    order = Order(f"o{now:%Y%m%d%H%M%S}{uuid.uuid4().hex[:5]}{n % 16:x}", buyer, OrderStatus.PENDING_PAYMENT,
                  [Line("p1", "面膜", 1, 5_000, 1_500, 2_000, 500)], 5_000, now, now + timedelta(minutes=15),
                  upline or Upline())
    deps.orders.create(order, None, ADDRESS)
    return order


def every_page(f: OrderFilter, deps: Deps, limit: int) -> tuple[list[str], int]:
    ids, cursor, pages = [], None, 0
    while True:
        page, cursor = list_orders(f, limit, cursor, deps)
        ids += [o.order_id for o in page]
        pages += 1
        if cursor is None:
            return ids, pages


@pytest.fixture
def meter(deps: Deps) -> DynamoMeter:
    meter = DynamoMeter()
    meter.attach_models(all_models())
    return meter


# The list

def test_the_list_is_newest_first_across_shards_and_days_pages_resume_and_only_queries_and_batch_gets(
        deps, clock, product, meter):
    made = []
    for day in range(3):
        for n in range(15):
            made.append(bare_order(deps, n + day))
            clock.advance(minutes=7)
        clock.advance(days=1)
    expected = [o.order_id for o in sorted(made, key=lambda o: (o.created_at, o.order_id), reverse=True)]
    meter.reset()
    ids, pages = every_page(OrderFilter(), deps, 10)
    assert ids == expected and pages >= 5
    assert set(meter.take().calls) == {"Query", "BatchGetItem"}


def test_a_page_reads_at_most_its_query_budget_and_comes_back_short_with_a_cursor(deps, clock, product, meter):
    old = bare_order(deps, 1)
    clock.advance(days=20)
    meter.reset()
    page, cursor = list_orders(OrderFilter(), 20, None, deps)
    calls = meter.take().calls
    assert page == [] and cursor is not None and calls["Query"] <= PAGE_QUERIES
    ids, _ = every_page(OrderFilter(), deps, 20)
    assert ids == [old.order_id]


def test_status_days_buyer_distributor_and_their_combinations(deps, clock, product):
    seller = login(deps, "seller")
    code = shops.open_shop(seller, "seller shop", deps).invite_code
    parent_of_seller = login(deps, "top")
    top_code = shops.open_shop(parent_of_seller, "top shop", deps).invite_code
    referrals.bind(seller, top_code, deps)
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    other = login(deps, "other")
    first_day = business_date(clock())
    shipped = paid_order(deps, buyer, product)
    orders.ship(shipped, "SF", "SF1234567", deps)
    clock.advance(days=1)
    paid = paid_order(deps, buyer, product)
    clock.advance(minutes=1)
    unpaid = bare_order(deps, 3, buyer).order_id
    clock.advance(minutes=1)
    others = paid_order(deps, other, product)

    def listed(**f: object) -> list[str]:
        return every_page(OrderFilter(**f), deps, 2)[0]  # type: ignore[arg-type]

    assert listed() == [others, unpaid, paid, shipped]
    assert listed(status=OrderStatus.PAID) == [others, paid]
    assert listed(status=OrderStatus.SHIPPED) == [shipped]
    assert listed(start=first_day, end=first_day) == [shipped]
    assert listed(start=first_day + timedelta(days=1)) == [others, unpaid, paid]
    assert listed(buyer_id=buyer) == [unpaid, paid, shipped]
    assert listed(buyer_id=buyer, status=OrderStatus.PAID) == [paid]
    assert listed(buyer_id=buyer, start=first_day, end=first_day) == [shipped]
    assert listed(distributor_id=seller) == [paid, shipped]  # level 1 (the unpaid one pays nobody yet: same)
    assert listed(distributor_id=parent_of_seller) == [paid, shipped]  # level 2
    assert listed(distributor_id=seller, status=OrderStatus.SHIPPED) == [shipped]
    assert listed(buyer_id=other, distributor_id=seller) == []
    assert listed(shipping_report=ReportState.PENDING) == []
    assert deps.orders.get(shipped).shipping_report.state is ReportState.REPORTED


def test_a_cursor_of_another_filter_or_not_ours_is_invalid_cursor(deps, clock, product):
    for n in range(3):
        bare_order(deps, n)
    _, cursor = list_orders(OrderFilter(), 1, None, deps)
    for bad, f in [(cursor, OrderFilter(status=OrderStatus.PAID)), ("not-a-cursor", OrderFilter()),
                   ("eyJmIjoxfQ", OrderFilter())]:
        with pytest.raises(DomainError) as refused:
            list_orders(f, 1, bad, deps)
        assert refused.value.code == "INVALID_CURSOR"


# Shipping

def _audited(deps: Deps) -> list[AdminItem]:
    return [item for item in AdminItem.scan() if item.action == "order.ship"]


def test_a_batch_ships_each_line_on_its_own_and_audits_each_shipment(deps, clock, product):
    buyer = login(deps, "buyer")
    a, b, c = (paid_order(deps, buyer, product) for _ in range(3))
    unpaid = bare_order(deps, 1, buyer).order_id
    orders.ship(c, "ZTO", "ZT0000001", deps, "u-admin")
    results = ship_batch([(a, "顺丰", "SF1111111"), ("o-missing", "SF", "SF2222222"), (unpaid, "SF", "SF3333333"),
                          (a, "SF", "SF1111111"), (b, "UPS", "1Z999"), (b, "SF", "bad tracking"),
                          (c, "SF", "SF4444444"), (c, "ZTO", "ZT0000001")], "u-admin", deps)
    outcome = [(r.order_id, r.error.code if r.error else r.order.status.value) for r in results]
    assert outcome == [(a, "shipped"), ("o-missing", "ORDER_NOT_FOUND"), (unpaid, "WRONG_ORDER_STATUS"),
                       (a, "DUPLICATE_LINE"), (b, "INVALID_CARRIER"), (b, "DUPLICATE_LINE"),
                       (c, "ALREADY_SHIPPED"), (c, "DUPLICATE_LINE")]
    assert deps.orders.get(b).status is OrderStatus.PAID
    shipped_a = deps.orders.get(a)
    assert (shipped_a.carrier, shipped_a.tracking_no) == ("SF", "SF1111111")  # stored as WeChat's id
    entries = _audited(deps)
    assert sorted(e.target for e in entries) == sorted([f"order#{a}", f"order#{c}"])
    assert {e.actor for e in entries} == {"u-admin"}
    again = ship_batch([(a, "SF", "SF1111111")], "u-admin", deps)
    assert again[0].order.status is OrderStatus.SHIPPED and len(_audited(deps)) == 2
    assert len(deps.shipping.reports(a)) == 1  # reported once, at its shipment


def test_a_bad_tracking_number_refuses_its_line(deps, product):
    buyer = login(deps, "buyer")
    a = paid_order(deps, buyer, product)
    assert ship_batch([(a, "SF", "no spaces")], "u-admin", deps)[0].error.code == "INVALID_TRACKING_NO"


# The shipping report

def test_wechat_down_at_ship_leaves_the_report_pending_and_the_job_reports_it_once(deps, clock, product):
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    deps.shipping.fail(None)
    shipped = orders.ship(order_id, "SF", "SF1234567", deps, "u-admin")
    report = shipped.shipping_report
    assert shipped.status is OrderStatus.SHIPPED
    assert (report.state, report.attempts) == (ReportState.PENDING, 1) and "unreachable" in report.last_error
    assert every_page(OrderFilter(shipping_report=ReportState.PENDING), deps, 20)[0] == [order_id]
    assert run_job("report_shipments", clock(), deps)["reported"] == 0  # not due yet
    clock.advance(minutes=6)
    assert run_job("report_shipments", clock(), deps)["reported"] == 1
    assert run_job("report_shipments", clock.advance(minutes=10), deps)["reported"] == 0
    assert len(deps.shipping.reports(order_id)) == 1
    assert deps.orders.get(order_id).shipping_report.state is ReportState.REPORTED
    assert every_page(OrderFilter(shipping_report=ReportState.PENDING), deps, 20)[0] == []


def test_a_report_wechat_keeps_failing_is_given_up_after_max_attempts_and_listed_as_failed(deps, clock, product):
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    deps.shipping.fail(-1, times=MAX_ATTEMPTS)
    orders.ship(order_id, "SF", "SF1234567", deps, "u-admin")
    runs = 0
    while deps.orders.get(order_id).shipping_report.state is ReportState.PENDING:
        clock.advance(hours=7)
        run_job("report_shipments", clock(), deps)
        runs += 1
    report = deps.orders.get(order_id).shipping_report
    assert (report.state, report.attempts, runs) == (ReportState.FAILED, MAX_ATTEMPTS, MAX_ATTEMPTS - 1)
    assert report.last_error == "-1 system error"
    assert every_page(OrderFilter(shipping_report=ReportState.FAILED), deps, 20)[0] == [order_id]
    assert run_job("report_shipments", clock.advance(hours=7), deps)["reported"] == 0  # given up: never again
    assert deps.shipping.reports(order_id) == []


def test_a_report_wechat_refuses_fails_at_once(deps, product):
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    deps.shipping.fail(10060004)
    report = orders.ship(order_id, "SF", "SF1234567", deps, "u-admin").shipping_report
    assert (report.state, report.attempts) == (ReportState.FAILED, 1)
    assert report.last_error.startswith("10060004")


def test_an_sf_shipment_without_a_phone_is_failed_without_calling_wechat(deps, product):
    buyer = login(deps, "buyer")
    body = {"items": [{"product_id": product, "quantity": 1}], "address": {"name": "买家", "detail": "北京"}}
    order = orders.place_order(buyer, [(product, 1)], body, uuid.uuid4().hex, deps).order
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    payments.handle_notification(headers, raw, deps)
    calls = deps.shipping.calls
    report = orders.ship(order.order_id, "SF", "SF1234567", deps, "u-admin").shipping_report
    assert report.state is ReportState.FAILED and "phone" in report.last_error
    assert deps.shipping.calls == calls


def test_a_pending_report_of_an_order_refunded_meanwhile_is_closed_without_calling_wechat(deps, clock, product):

    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    deps.shipping.fail(None)
    orders.ship(order_id, "SF", "SF1234567", deps, "u-admin")
    refund_whole(order_id, deps)  # shipped: an after-sales case refunds it
    calls = deps.shipping.calls
    clock.advance(minutes=6)
    assert run_job("report_shipments", clock(), deps)["skipped"] == 1
    report = deps.orders.get(order_id).shipping_report
    assert (report.state, report.attempts) == (ReportState.FAILED, 1) and "refunded" in report.last_error
    assert deps.shipping.calls == calls
    assert run_job("report_shipments", clock.advance(hours=1), deps)["skipped"] == 0

