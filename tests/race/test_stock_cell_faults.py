"""A fault at every DynamoDB call of a checkout of a product split over cells, on DynamoDB Local
(tests/faults.py, as tests/race/test_faults.py): the happy path (the drawn cell holds the line),
the fallback (the drawn cell is short: the cells are read and the line served from another),
and the cancellation job returning the units to their cells. The recovered state must equal a
fault-free run's, cell by cell.

The cell draw is fixed (``Draw``), so a faulted run and its recovery draw what the fault-free run
drew, whatever the number of attempts a fault causes.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import orders
from chalicelib.store.products import ProductItem
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import ADDRESS, login

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
KEY = "fault-key-cells"
PRODUCT = "pcells"


class Draw:
    """A deterministic stand-in for ``random``: always cell 2, the first candidate, no shuffle."""

    def randrange(self, stop: int) -> int:
        return 2 % stop

    def choice(self, seq: Any) -> Any:
        return seq[0]

    def shuffle(self, seq: list[Any]) -> None:
        return None


@pytest.fixture
def deps(private_tables: None, monkeypatch: pytest.MonkeyPatch) -> Deps:
    restore({})
    monkeypatch.setattr("chalicelib.domain.stock.random", Draw())
    return Deps(clock=lambda: NOW)


def setup(deps: Deps, drawn_cell_empty: bool = False) -> str:
    deps.products.put_if_absent(Product(PRODUCT, "秒杀", "beauty", 1_500, 5_000, 16, 2_000, 500, stock_cells=4),
                                deps.clock())
    if drawn_cell_empty:
        ProductItem(f"{PRODUCT}#cell#2").update(actions=[ProductItem.stock.set(0)])
    return login(deps, "buyer")


def checkout(deps: Deps, buyer: str) -> Any:
    body = {"items": [{"product_id": PRODUCT, "quantity": 3}], "address": ADDRESS}
    return orders.place_order(buyer, [(PRODUCT, 3)], body, KEY, deps)


def test_a_fault_at_any_call_of_a_checkout_from_a_cell_then_the_same_request_again_takes_its_units_once(deps, faults):
    calls, endings = run_with_faults(Case(setup, checkout, checkout), deps, faults)
    assert calls[:2] == ["BatchGetItem", "TransactWriteItems"]
    assert deps.products.cells([PRODUCT])[PRODUCT][1] == [4, 4, 1, 4]
    assert endings["crashed"] == len(calls) + 1


def test_a_fault_at_any_call_of_a_checkout_falling_back_from_a_short_cell_takes_its_units_once(deps, faults):
    calls, _ = run_with_faults(Case(lambda d: setup(d, drawn_cell_empty=True), checkout, checkout), deps, faults)
    # read; the drawn cell refused; the cells read (product items, then the other cells); the take
    assert calls[:5] == ["BatchGetItem", "TransactWriteItems", "BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    assert deps.products.cells([PRODUCT])[PRODUCT][1] == [1, 4, 0, 4]


def cancel_job(deps: Deps, order_id: str) -> Any:
    class Never:
        def expired(self) -> bool:
            return False

    late = NOW + timedelta(minutes=16)
    part = next(p for p in orders.unpaid_parts(late, deps) if p.endswith(f"#{order_id[-1]}"))
    return orders.cancel_unpaid_part(part, None, late, deps, Never()).counts


def test_a_fault_at_any_call_of_the_cancellation_job_then_its_next_run_returns_the_units_to_their_cells(deps, faults):
    def placed(d: Deps) -> str:
        return checkout(d, setup(d)).order.order_id

    calls, _ = run_with_faults(Case(placed, cancel_job, cancel_job), deps, faults)
    assert "TransactWriteItems" in calls
    assert deps.products.cells([PRODUCT])[PRODUCT][1] == [4, 4, 4, 4]
