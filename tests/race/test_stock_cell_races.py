"""A flash sale on a product split over K = 8 cells, on DynamoDB Local: many concurrent checkouts
never oversell and sell exactly the stock; cancellations and a re-split racing the checkouts keep
the total exact (domain/stock.py, docs/orders.md "Flash sale").

Every count is checked per cell as well: each cell ends at its start less the units the orders
that still hold them took from it (their recorded takes), and never below 0.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.stock import split
from chalicelib.services import catalog, orders
from tests.faults import own_tables
from tests.race.invariants import check_stock, orders_of
from tests.race.test_flash_sale import in_threads, until_not_busy

pytestmark = pytest.mark.race

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}
CELLS, UNITS, BUYERS, THREADS = 8, 60, 200, 32


@pytest.fixture(scope="module")
def own(dynamodb_local: Any) -> Iterator[None]:
    with own_tables(dynamodb_local.endpoint):
        yield


@pytest.fixture
def deps(own: None) -> Deps:
    return Deps()


def flash_product(deps: Deps, units: int = UNITS, cells: int = CELLS) -> str:
    product_id = f"p{uuid.uuid4().hex[:10]}"
    assert deps.products.put_if_absent(Product(product_id, "秒杀面膜", "beauty", 1_500, 5_000, units, 2_000, 500,
                                               stock_cells=cells), deps.clock())
    return product_id


def buyers(deps: Deps, count: int) -> list[str]:
    from chalicelib.services import auth

    run = uuid.uuid4().hex[:6]
    return in_threads([lambda i=i: auth.login(f"dev:sc{run}b{i}", deps).user.user_id for i in range(count)], threads=8)


def checkout(deps: Deps, buyer: str, product_id: str, quantity: int, tries: Counter[str]) -> Any:
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    key = uuid.uuid4().hex
    return until_not_busy(lambda: orders.place_order(buyer, [(product_id, quantity)], body, key, deps), tries)


def check_cells(deps: Deps, product_id: str, start: list[int], placed: list[Order]) -> list[int]:
    """Each cell = its start − the units still held by the orders that took them from it; ≥ 0."""
    held = [0] * len(start)
    for order in placed:
        if order.status is OrderStatus.CANCELLED:
            continue
        for line in order.lines:
            for cell, units in order.takes_of(line):
                held[cell] += units
    cells = deps.products.cells([product_id])[product_id][1]
    assert all(c >= 0 for c in cells), cells
    assert cells == [s - h for s, h in zip(start + [0] * (len(cells) - len(start)), held + [0] * (len(cells) - len(held)),
                                           strict=True)], (cells, start, held)
    return cells


def test_200_buyers_on_32_threads_buy_exactly_the_60_units_of_a_product_split_over_8_cells(deps):
    product_id = flash_product(deps)
    people, tries = buyers(deps, BUYERS), Counter[str]()
    placed = in_threads([lambda b=b: checkout(deps, b, product_id, 1, tries) for b in people], threads=THREADS)
    outcomes = Counter(o if isinstance(o, str) else "ORDERED" for o in placed)
    assert outcomes == {"ORDERED": UNITS, "OUT_OF_STOCK": BUYERS - UNITS}, (outcomes, tries)
    made = orders_of(people)
    assert len(made) == UNITS and check_stock(deps, product_id, UNITS, made) == UNITS
    assert check_cells(deps, product_id, split(UNITS, CELLS), made) == [0] * CELLS
    assert len({cell for o in made for cell, _ in o.takes_of(o.lines[0])}) == CELLS  # every cell sold
    print(f"\nK={CELLS}: {BUYERS} buyers, {THREADS} threads, client retries on TRY_AGAIN: {tries['TRY_AGAIN']}")


def test_lines_of_several_units_racing_never_oversell_and_leave_less_than_a_line(deps):
    product_id = flash_product(deps, units=50)
    people, tries = buyers(deps, 60), Counter[str]()
    placed = in_threads([lambda i=i, b=b: checkout(deps, b, product_id, 1 + i % 4, tries)
                         for i, b in enumerate(people)], threads=THREADS)
    made = orders_of(people)
    sold = check_stock(deps, product_id, 50, made)
    refused = [q for q, o in zip((1 + i % 4 for i in range(60)), placed, strict=True) if o == "OUT_OF_STOCK"]
    assert sold <= 50 and all(q > 50 - sold for q in refused), (sold, refused)  # refused only when truly short
    check_cells(deps, product_id, split(50, CELLS), made)


def test_cancellations_and_a_resplit_racing_the_checkouts_keep_the_total_exact(deps):
    product_id = flash_product(deps, units=40)
    early = buyers(deps, 10)
    tries: Counter[str] = Counter()
    first = [checkout(deps, b, product_id, 2, tries) for b in early]
    assert not any(isinstance(o, str) for o in first)
    late_buyers = buyers(deps, 40)
    late = max(o.order.pay_deadline for o in first) + timedelta(minutes=1)

    class Never:
        def expired(self) -> bool:
            return False

    def cancel_all() -> int:
        """The job's slices of the shards these orders are in (other tests' unpaid orders in the
        module's tables are cancelled too: counted apart)."""
        shards = {o.order.order_id[-1] for o in first}
        parts = [p for p in orders.unpaid_parts(late, deps) if p[-1] in shards]
        return sum(orders.cancel_unpaid_part(p, None, late, deps, Never()).counts["cancelled"] for p in parts)

    def resplit() -> str:
        for cells in (3, 16, 5):
            until_not_busy(lambda c=cells: catalog.update_product(product_id, {"stock_cells": c}, "admin", deps), tries)
        return "resplit"

    calls = [cancel_all, resplit] + [lambda b=b: checkout(deps, b, product_id, 1, tries) for b in late_buyers]
    results = in_threads(calls, threads=THREADS)
    assert results[0] >= 10 and results[1] == "resplit"
    made = orders_of(early + late_buyers)
    assert Counter(o.status.value for o in made if o.buyer_id in early) == {"cancelled": 10}
    held = check_stock(deps, product_id, 40, made)  # stock = 40 − units of the orders not cancelled
    late_orders = [o for o in made if o.buyer_id not in early]  # the job may cancel these too: due by `late`
    assert len(late_orders) == sum(1 for r in results[2:] if not isinstance(r, str))
    assert held == sum(1 for o in late_orders if o.status is not OrderStatus.CANCELLED)
    assert {r for r in results[2:] if isinstance(r, str)} <= {"OUT_OF_STOCK"}
    product = deps.products.get(product_id)
    assert product is not None and product.stock_cells == 5 and product.stock == 40 - held
    cells = deps.products.cells([product_id])[product_id][1]
    assert len(cells) == 16 and min(cells) >= 0 and sum(cells) == 40 - held
