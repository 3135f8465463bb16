"""Facts on moto: the mall's own changes feed the day's counters once each, replays heal a lost
count without counting twice, and a failing count never fails the business request."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import facts, orders, payments, referrals
from chalicelib.services.sessions import Caller
from chalicelib.store.analytics import DAY_SHARDS, AnalyticsItem, day_key, fact_key
from tests.service.test_orders import distributor, login, paid_order

TODAY = date(2026, 11, 10)  # the conftest clock: 2026-11-10 12:00 Shanghai


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return "p1"


def today(deps: Deps) -> dict[str, int]:
    return deps.analytics.day_counts([TODAY])[TODAY]


def test_logins_bindings_and_a_paid_order_are_counted_on_their_day(deps, product):
    _seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    login(deps, "buyer")  # a second login is not a new user
    referrals.bind(buyer, code, deps)
    order_id = paid_order(deps, buyer, product, quantity=2)
    c = today(deps)
    assert (c["new_users"], c["bindings"], c["orders"], c["paid_fen"], c["paid_cost_fen"]) == (2, 1, 1, 10_000, 3_000)
    assert (c["paying_users"], c["commission_accrued_fen"], c["active_distributors"]) == (1, 2_000, 1)
    assert c["nuc0"] == 1  # the buyer registered today and paid today
    assert deps.analytics.product_day_counts(TODAY)["p1"].units == 2
    assert [b.order_id for b in deps.analytics.baskets(TODAY)] == [order_id]


def test_a_replayed_notification_counts_nothing_twice_and_heals_a_lost_count(deps, product):
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    order = deps.orders.get(order_id)
    headers, raw = deps.pay.build_payment_notification(order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "already_paid"
    assert today(deps)["orders"] == 1
    # lose the count (as if the process died after the payment's transaction), then replay
    AnalyticsItem(*fact_key("paid", order_id)).delete()
    for shard in range(DAY_SHARDS):
        AnalyticsItem(*day_key(TODAY, shard)).delete()
    AnalyticsItem(f"u#{buyer}", "buyer").update(actions=[AnalyticsItem.pay_day.remove(), AnalyticsItem.pay_n.remove(),
                                                         AnalyticsItem.first_paid_day.remove()])
    assert payments.handle_notification(headers, raw, deps).outcome == "already_paid"
    assert payments.handle_notification(headers, raw, deps).outcome == "already_paid"
    assert (today(deps)["orders"], today(deps)["paying_users"]) == (1, 1)


def test_two_orders_of_one_buyer_make_one_paying_user_and_one_repeat_buyer(deps, product):
    buyer = login(deps, "buyer")
    paid_order(deps, buyer, product)
    paid_order(deps, buyer, product)
    paid_order(deps, buyer, product)
    c = today(deps)
    assert (c["orders"], c["paying_users"], c["repeat_buyers"]) == (3, 1, 1)


def test_refund_shipment_completion_and_settlement_are_counted_once(deps, clock, product):
    _seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    kept, returned = paid_order(deps, buyer, product), paid_order(deps, buyer, product)
    orders.refund(returned, Caller(buyer, "user"), "不要了", deps)
    orders.ship(kept, "SF", "SF1", deps)
    clock.advance(hours=47)  # 11:00 two days later: within 48 hours
    orders.confirm(kept, Caller(buyer, "user"), deps)
    c = deps.analytics.day_counts([TODAY, TODAY + timedelta(days=2)])
    day2 = c[TODAY + timedelta(days=2)]
    assert (c[TODAY]["refunds"], c[TODAY]["refunded_fen"], c[TODAY]["refunded_cost_fen"]) == (1, 5_000, 1_500)
    assert (c[TODAY]["shipped"], day2["completed"]) == (1, 1)  # on-time delivery: the carrier's (test_delivery.py)
    from tests.service.test_settlement import settle

    clock.advance(days=4)  # available from 00:00 three days after completion
    assert settle(clock(), deps)["settled"] == 1
    settle(clock(), deps)
    settled_day = deps.analytics.day_counts([TODAY + timedelta(days=6)])[TODAY + timedelta(days=6)]
    assert settled_day["commission_settled_fen"] == 1_000


def test_withdrawal_paid_is_counted_once_per_withdrawal(deps):
    at = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
    facts.withdrawal_paid(deps, "w1", "u1", 3_000, at)
    facts.withdrawal_paid(deps, "w1", "u1", 3_000, at)
    facts.withdrawal_paid(deps, "w2", "u1", 500, at)
    assert (today(deps)["withdrawn_fen"], today(deps)["withdrawals"]) == (3_500, 2)


def test_a_failing_count_is_logged_and_never_fails_the_request(deps, product, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("analytics table unreachable")

    monkeypatch.setattr(deps.analytics, "write", broken)
    buyer = login(deps, "buyer")
    order_id = paid_order(deps, buyer, product)
    assert deps.orders.get(order_id).status.value == "paid"
    assert "analytics fact not counted" in capsys.readouterr().out
