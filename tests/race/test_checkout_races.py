"""Checkout and payment under concurrency, on DynamoDB Local."""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import orders, payments, referrals, shops
from tests import order_jobs
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}


def new_product(deps: Deps, stock: int) -> str:
    product_id = f"p{uuid.uuid4().hex[:10]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, stock, 2_000, 500), deps.clock())
    return product_id


def buy(deps: Deps, buyer: str, product_id: str) -> Any:
    body = {"items": [{"product_id": product_id, "quantity": 1}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, 1)], body, uuid.uuid4().hex, deps)


def test_thirty_buyers_racing_for_ten_units_get_exactly_ten_orders(deps):
    product_id = new_product(deps, stock=10)
    buyers = [login(deps, "b") for _ in range(30)]
    outcomes = race([lambda b=b: buy(deps, b, product_id) for b in buyers])
    counts = Counter(o if isinstance(o, str) else "ORDERED" for o in outcomes)
    assert counts == {"ORDERED": 10, "OUT_OF_STOCK": 20}
    assert deps.products.get(product_id).stock == 0


def test_one_notification_delivered_ten_times_at_once_pays_once(deps):
    distributor = login(deps, "d")
    code = shops.open_shop(distributor, "shop", deps).invite_code
    buyer = login(deps, "b")
    referrals.bind(buyer, code, deps)
    order = buy(deps, buyer, new_product(deps, stock=5)).order
    headers, body = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                        amount_fen=order.amount_fen)
    outcomes = race([lambda: payments.handle_notification(headers, body, deps).outcome for _ in range(10)])
    assert Counter(outcomes) == {"paid": 1, "already_paid": 9}
    assert deps.ledger.wallet(distributor)["pending"] == 1_000
    assert [e["kind"] for e in deps.ledger.entries(distributor)] == ["accrual"]
    assert deps.users.get(buyer).member.paid_order_count == 1


def test_a_payment_racing_the_cancellation_job_ends_paid_or_refunded_never_both(deps):
    product_id = new_product(deps, stock=1)
    buyer = login(deps, "b")
    order = buy(deps, buyer, product_id).order
    headers, body = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                        amount_fen=order.amount_fen)
    late = order.pay_deadline.replace(microsecond=0) + (order.pay_deadline - order.created_at)
    outcomes = race([lambda: payments.handle_notification(headers, body, deps).outcome,
                     lambda: order_jobs.cancel_unpaid(late, deps)["cancelled"]])
    final = deps.orders.get(order.order_id)
    assert (final.status.value, outcomes[0]) in {("paid", "paid"), ("cancelled", "refunded_late")}
    assert deps.products.get(product_id).stock == (0 if final.status.value == "paid" else 1)
