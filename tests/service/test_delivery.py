"""Carrier tracking on moto (docs/delivery.md): the subscription at shipment and its retry job,
快递100's pushes merged once, the delivery moving the automatic confirmation, the poll fallback,
returns, and on-time delivery in the day's metrics."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.carriers.kuaidi100 import push_param, step_entry
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.tracking import (
    QUIET,
    InvalidCallback,
    Sub,
    TrackingMismatch,
    TrackState,
    order_subject,
    push_sign,
    salt_for,
)
from chalicelib.jobs import run_job
from chalicelib.services import delivery, orders
from chalicelib.store.order_items import OrderItem
from chalicelib.wechat.pay_crypto import InvalidSignature
from tests.service.test_fulfilment import login, paid_order


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 100_000, 2_000, 500), deps.clock())
    return "p1"


@pytest.fixture
def shipped(deps: Deps, product: str) -> str:
    order_id = paid_order(deps, login(deps, "buyer"), product)
    orders.ship(order_id, "ZTO", "ZT100200300", deps, "u-admin")
    return order_id


def play(deps: Deps, subject: str, scenario: str) -> tuple[str, dict[str, str]]:
    t = deps.tracking.get(subject)
    return deps.tracker.play(t.company, t.tracking_no, scenario, deps.clock())  # type: ignore[union-attr]


def push(deps: Deps, subject: str, form: dict[str, str]) -> str:
    return delivery.handle_push(subject, urlencode(form).encode(), deps)


def deliver(deps: Deps, order_id: str) -> None:
    """The carrier delivers a shipped order now (快递100's simulator pushes 派件, 签收)."""
    _, form = play(deps, order_subject(order_id), "delivered")
    assert push(deps, order_subject(order_id), form) == "applied"


def confirm_key(order_id: str) -> str | None:
    return OrderItem.get(order_id, consistent_read=True).confirm_due_key


def test_shipping_subscribes_the_parcel_with_our_callback_and_its_own_salt(deps, shipped):
    subject = order_subject(shipped)
    tracking = deps.tracking.get(subject)
    assert (tracking.sub, tracking.company, tracking.tracking_no, tracking.state) == (
        Sub.ACTIVE, "zhongtong", "ZT100200300", TrackState.WAITING)
    watched = deps.tracker.watched("zhongtong", "ZT100200300")
    assert watched["callbackurl"] == f"http://localhost:8000/v1/tracking/kuaidi100/{subject}"
    assert watched["salt"] == salt_for(subject, deps.tracking_salt_key()) != salt_for("order-other", "k")
    assert tracking.due_at == deps.clock() + QUIET  # the poll fallback, if no news comes


def test_the_automatic_confirmation_falls_back_to_shipping_plus_the_fallback_days(deps, clock, shipped):
    due = clock() + timedelta(days=deps.rules.delivery.confirm_fallback_days)
    assert confirm_key(shipped).startswith(due.isoformat(timespec="seconds").replace("+00:00", "Z"))
    assert run_job("auto_confirm", due - timedelta(days=1), deps)["confirmed"] == 0
    assert run_job("auto_confirm", due + timedelta(hours=1), deps)["confirmed"] == 1


def test_a_delivery_records_delivered_at_once_and_moves_the_confirmation_to_delivery_plus_n_days(deps, clock, shipped):
    subject = order_subject(shipped)
    clock.advance(hours=20)
    _, form = play(deps, subject, "in_transit")
    assert push(deps, subject, form) == "applied"
    assert deps.tracking.get(subject).state is TrackState.IN_TRANSIT
    clock.advance(hours=10)
    _, form = play(deps, subject, "delivered")
    assert push(deps, subject, form) == "applied"
    tracking = deps.tracking.get(subject)
    order = deps.orders.get(shipped)
    assert tracking.state is TrackState.DELIVERED and order.delivered_at == tracking.delivered_at
    assert tracking.delivered_at <= clock() and tracking.due_at is None  # nothing more to watch
    assert [s.status for s in tracking.steps] == ["签收", "派件", "在途", "揽收"]
    due = order.delivered_at + timedelta(days=deps.rules.orders.auto_confirm_days)
    assert confirm_key(shipped).startswith(due.isoformat(timespec="seconds").replace("+00:00", "Z"))
    assert push(deps, subject, form) == "unchanged"  # 快递100 pushes again: nothing changes
    assert deps.orders.get(shipped).delivered_at == order.delivered_at
    assert run_job("auto_confirm", due + timedelta(hours=1), deps)["confirmed"] == 1
    assert deps.orders.get(shipped).status is OrderStatus.COMPLETED


def test_on_time_delivery_counts_from_payment_to_the_carriers_delivery_once(deps, clock, shipped):
    subject = order_subject(shipped)
    clock.advance(hours=30)
    _, form = play(deps, subject, "delivered")
    push(deps, subject, form)
    push(deps, subject, form)
    counts = deps.analytics.day_counts([business_date(clock())])[business_date(clock())]
    assert (counts["delivered"], counts["delivered_on_time"]) == (1, 1)


def test_a_late_delivery_is_not_on_time(deps, clock, shipped):
    subject = order_subject(shipped)
    clock.advance(hours=49)
    _, form = play(deps, subject, "delivered")
    push(deps, subject, form)
    counts = deps.analytics.day_counts([business_date(clock())])[business_date(clock())]
    assert (counts["delivered"], counts["delivered_on_time"]) == (1, 0)


def test_a_parcel_back_at_its_sender_withdraws_the_automatic_confirmation(deps, clock, shipped):
    subject = order_subject(shipped)
    _, form = play(deps, subject, "returned")
    assert push(deps, subject, form) == "applied"
    order = deps.orders.get(shipped)
    assert order.returned_at is not None and order.delivered_at is None and order.status is OrderStatus.SHIPPED
    assert confirm_key(shipped) is None
    assert run_job("auto_confirm", clock() + timedelta(days=40), deps)["confirmed"] == 0


def test_a_push_with_a_wrong_sign_or_another_parcels_salt_is_refused_and_changes_nothing(deps, shipped):
    subject = order_subject(shipped)
    _, form = play(deps, subject, "delivered")
    before = OrderItem.get(f"track#{subject}").track_json
    for forged in ({**form, "sign": "0" * 32}, {**form, "sign": push_sign(form["param"], salt_for("order-x", "k"))}):
        with pytest.raises(InvalidSignature):
            push(deps, subject, forged)
    with pytest.raises(InvalidSignature):  # a valid push of one parcel replayed to another's URL
        push(deps, "order-o999", form)
    with pytest.raises(InvalidCallback):
        delivery.handle_push(subject, b"param=1&param=2&sign=x", deps)
    assert OrderItem.get(f"track#{subject}").track_json == before
    assert deps.orders.get(shipped).delivered_at is None


def test_a_signed_report_of_another_parcel_is_a_mismatch(deps, shipped):
    subject = order_subject(shipped)
    param = push_param("polling", "zhongtong", "ZT999", 0, [step_entry(deps.clock(), "在途", "在途")])
    with pytest.raises(TrackingMismatch):
        push(deps, subject, {"param": param, "sign": push_sign(param, salt_for(subject, deps.tracking_salt_key()))})


def test_a_carrier_code_kuaidi100_corrected_is_taken_and_used_from_then_on(deps, shipped):
    subject = order_subject(shipped)
    param = push_param("polling", "zhongtongkuaiyun", "ZT100200300", 0, [step_entry(deps.clock(), "在途", "在途")])
    sign = push_sign(param, salt_for(subject, deps.tracking_salt_key()))
    assert push(deps, subject, {"param": param, "sign": sign}) == "applied"
    assert deps.tracking.get(subject).company == "zhongtongkuaiyun"


def test_an_older_push_never_turns_the_state_back(deps, clock, shipped):
    subject = order_subject(shipped)
    _, first = play(deps, subject, "in_transit")
    clock.advance(hours=2)
    _, second = play(deps, subject, "delivered")
    assert push(deps, subject, second) == "applied"
    assert push(deps, subject, first) == "unchanged"  # its steps are among the kept ones already
    assert deps.tracking.get(subject).state is TrackState.DELIVERED


def test_a_subscription_kuaidi100_could_not_take_is_made_by_the_job(deps, clock, product):
    order_id = paid_order(deps, login(deps, "buyer"), product)
    deps.tracker.fail(None)  # type: ignore[union-attr]
    orders.ship(order_id, "YTO", "YT5550001", deps, "u-admin")
    subject = order_subject(order_id)
    tracking = deps.tracking.get(subject)
    assert (tracking.sub, tracking.attempts) == (Sub.PENDING, 1) and "unreachable" in tracking.last_error
    assert run_job("track_parcels", clock(), deps)["subscribed"] == 0  # not due yet
    assert run_job("track_parcels", clock.advance(minutes=6), deps)["subscribed"] == 1
    assert deps.tracking.get(subject).sub is Sub.ACTIVE
    assert run_job("track_parcels", clock.advance(minutes=10), deps)["subscribed"] == 0


def test_a_subscription_kuaidi100_refuses_fails_at_once_and_the_poll_fallback_reads_the_parcel(deps, clock, product):
    order_id = paid_order(deps, login(deps, "buyer"), product)
    deps.tracker.fail("701")  # type: ignore[union-attr]
    orders.ship(order_id, "STO", "ST7770001", deps, "u-admin")
    subject = order_subject(order_id)
    assert deps.tracking.get(subject).sub is Sub.FAILED
    assert run_job("track_parcels", clock.advance(hours=13), deps)["quiet"] == 1  # asked; no result yet


def test_the_poll_fallback_asks_the_real_time_query_about_a_parcel_without_news(deps, clock, shipped):
    subject = order_subject(shipped)
    play(deps, subject, "delivered")  # 快递100 knows, but its push never reached us
    assert run_job("track_parcels", clock.advance(hours=1), deps)["applied"] == 0  # not quiet long enough
    summary = run_job("track_parcels", clock.advance(hours=12), deps)
    assert summary["applied"] == 1
    assert deps.orders.get(shipped).delivered_at is not None
    assert run_job("track_parcels", clock.advance(hours=13), deps)["applied"] == 0  # delivered: no more polls


def test_a_quiet_parcel_is_asked_again_after_quiet_hours(deps, clock, shipped):
    subject = order_subject(shipped)
    assert run_job("track_parcels", clock.advance(hours=13), deps)["quiet"] == 1
    assert deps.tracking.get(subject).due_at == clock() + QUIET


def test_a_return_is_tracked_the_same_way_and_the_call_is_idempotent(deps, clock):
    tracking = delivery.track_return("c0001", "圆通", "YT8880001", deps)
    assert tracking is not None and (tracking.sub, tracking.carrier) == (Sub.ACTIVE, "YTO")
    assert delivery.track_return("c0001", "YTO", "YT8880001", deps) == delivery.return_tracking("c0001", deps)
    _, form = play(deps, "return-c0001", "delivered")
    assert push(deps, "return-c0001", form) == "applied"
    assert delivery.return_tracking("c0001", deps).delivered_at is not None


def test_the_order_answers_carry_the_tracking(deps, shipped):
    found = delivery.order_trackings([deps.orders.get(shipped)], deps)
    assert list(found) == [shipped] and found[shipped].carrier == "ZTO"


def test_a_push_costs_two_round_trips_and_a_delivery_three_plus_its_fact(deps, clock, shipped):
    from collections import Counter

    from bench.meter import DynamoMeter
    from chalicelib.store.tables import all_models

    meter = DynamoMeter()
    meter.attach_models(all_models())
    subject = order_subject(shipped)
    _, form = play(deps, subject, "in_transit")
    meter.reset()
    push(deps, subject, form)
    assert meter.take().calls == Counter({"GetItem": 1, "UpdateItem": 1})
    _, form = play(deps, subject, "delivered")
    meter.reset()
    push(deps, subject, form)
    assert meter.take().calls == Counter({"GetItem": 2, "TransactWriteItems": 2})  # tracking + order, the fact
    meter.reset()
    push(deps, subject, form)  # a replay: the tracking and the order read; the fact's marker refuses a recount
    assert meter.take().calls == Counter({"GetItem": 2, "TransactWriteItems": 1})
    day = business_date(clock())
    assert deps.analytics.day_counts([day])[day]["delivered"] == 1
