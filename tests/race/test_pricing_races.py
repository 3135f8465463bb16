"""Pricing's writes under concurrency, on DynamoDB Local (docs/promotions.md "Checkout,
cancellation and refunds"): ten orders racing with one coupon, a coupon racing its order's
cancellation, ten racing orders of one user under a purchase limit; and a fault at every
DynamoDB call of a checkout with a coupon and a limit, then its cancellation."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.orders import Order
from chalicelib.domain.promotions import Coupon, PromotionKind
from chalicelib.services import orders
from chalicelib.store.order_promotions import bought_key
from chalicelib.store.users import UserItem
from tests.faults import Case, restore, run_with_faults
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def product(deps: Deps, stock: int = 50, limit: int | None = None, product_id: str | None = None) -> str:
    product_id = product_id or f"p{uuid.uuid4().hex[:10]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, stock, 2_000, 500,
                                        limit_per_user=limit), deps.clock())
    return product_id


def coupon(deps: Deps, user_id: str, coupon_id: str | None = None) -> str:
    coupon_id = coupon_id or f"n{uuid.uuid4().hex[:20]}"
    assert deps.promotions.grant(Coupon(coupon_id, "promo-red", PromotionKind.NEW_USER_COUPON, user_id, "新人红包",
                                        1_000, 0, NOW - timedelta(hours=1), NOW + timedelta(days=7)))
    return coupon_id


def buy(deps: Deps, buyer: str, product_id: str, coupon_id: str | None = None, key: str | None = None,
        quantity: int = 1) -> Any:
    body: dict[str, Any] = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    if coupon_id:
        body["coupon_id"] = coupon_id
    return orders.place_order(buyer, [(product_id, quantity)], body, key or uuid.uuid4().hex, deps)


def bought(buyer: str, product_id: str) -> int:
    try:
        return int(UserItem.get(buyer, bought_key(product_id), consistent_read=True).bought_units or 0)
    except UserItem.DoesNotExist:
        return 0


def cancel(deps: Deps, order: Order) -> str:
    """The cancellation job's write for one order, run again when a concurrent transaction on the
    coupon made DynamoDB cancel it (the job's next run would)."""
    for _ in range(20):
        try:
            deps.orders.cancel(order, NOW + timedelta(minutes=20))
            return "cancelled"
        except ConcurrentUpdate:
            continue
    raise AssertionError("the cancellation never committed")


def test_ten_orders_racing_with_one_coupon_one_uses_it(deps):
    buyer, product_id = login(deps, "b"), product(deps)
    coupon_id = coupon(deps, buyer)
    outcomes = race([lambda: buy(deps, buyer, product_id, coupon_id) for _ in range(10)])
    placed = [o.order for o in outcomes if not isinstance(o, str)]
    assert Counter(o if isinstance(o, str) else "ORDERED" for o in outcomes) == {"ORDERED": 1, "COUPON_NOT_USABLE": 9}
    assert placed[0].amount_fen == 4_000 and placed[0].coupon_id == coupon_id
    assert deps.promotions.coupon(coupon_id).order_id == placed[0].order_id
    assert deps.products.get(product_id).stock == 49  # the refused ones took nothing


def test_a_coupon_racing_its_orders_cancellation_is_held_by_one_live_order_at_most(deps):
    buyer, product_id = login(deps, "b"), product(deps)
    coupon_id = coupon(deps, buyer)
    for _ in range(3):
        first = buy(deps, buyer, product_id, coupon_id).order
        outcomes = race([lambda o=first: cancel(deps, o), lambda: buy(deps, buyer, product_id, coupon_id)])
        second = outcomes[1]
        holder = deps.promotions.coupon(coupon_id).order_id
        assert deps.orders.get(first.order_id).status.value == "cancelled"
        if isinstance(second, str):
            assert second == "COUPON_NOT_USABLE" and holder is None
        else:
            assert holder == second.order.order_id
            deps.orders.cancel(second.order, NOW + timedelta(minutes=20))
            assert deps.promotions.coupon(coupon_id).order_id is None
    assert deps.products.get(product_id).stock == 50


def test_a_purchase_limit_under_ten_racing_orders_of_one_user(deps):
    buyer, product_id = login(deps, "b"), product(deps, limit=3)
    outcomes = race([lambda: buy(deps, buyer, product_id) for _ in range(10)])
    assert Counter(o if isinstance(o, str) else "ORDERED" for o in outcomes) == {"ORDERED": 3,
                                                                                "PURCHASE_LIMIT_REACHED": 7}
    assert bought(buyer, product_id) == 3 and deps.products.get(product_id).stock == 47


KEY = "fault-key-pricing"


def setup(deps: Deps) -> tuple[str, str, str]:
    buyer = login(deps, "buyer")
    return buyer, product(deps, stock=10, limit=5, product_id="plimited"), coupon(deps, buyer, "n-fault-coupon")


def checkout(deps: Deps, context: tuple[str, str, str]) -> Any:
    buyer, product_id, coupon_id = context
    return buy(deps, buyer, product_id, coupon_id, key=KEY, quantity=2)


def test_a_fault_at_any_call_of_a_checkout_with_a_coupon_and_a_limit_takes_each_once(deps, faults):
    calls, _ = run_with_faults(Case(setup, checkout, checkout), deps, faults)
    assert calls[:2] == ["BatchGetItem", "TransactWriteItems"]
    order = deps.promotions.coupon("n-fault-coupon").order_id
    assert order is not None and deps.orders.get(order).amount_fen == 9_000
    assert bought(deps.orders.get(order).buyer_id, "plimited") == 2


def test_a_fault_at_any_call_of_the_cancellation_gives_the_coupon_and_the_units_back_once(deps, faults):
    def placed(d: Deps) -> str:
        return str(checkout(d, setup(d)).order.order_id)

    def cancel(d: Deps, order_id: str) -> Any:
        order = d.orders.get(order_id)
        if order.status.value == "pending_payment":
            d.orders.cancel(order, NOW + timedelta(minutes=20))
        return "done"

    run_with_faults(Case(placed, cancel, cancel), deps, faults)
    held = deps.promotions.coupon("n-fault-coupon")
    assert held.order_id is None and bought(held.user_id, "plimited") == 0
    assert deps.products.get("plimited").stock == 10
