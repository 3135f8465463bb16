"""A fault at every DynamoDB call of a SKU checkout, of the cancellation returning a SKU's units,
and of a restock, on DynamoDB Local (tests/faults.py). The recovered state must equal a
fault-free run's, item by item (each SKU's stock item, the order, the audit log).

A restock is not idempotent (``PATCH stock_delta`` carries no key): its audit entry lands in the
same transaction as the stock, so the operator who lost the answer looks for the entry (``GET
/v1/admin/audit``) and sends the request again only when it is absent; the recovery does that."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.services import catalog, orders
from chalicelib.store.admin import AdminItem
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import ADDRESS, login

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
KEY = "fault-key-sku"
SHIRT = {"name": "衬衫", "category": "apparel", "cost_fen": 3_000, "price_fen": 10_000, "stock": 5,
         "skus": [{"specs": {"尺码": "M"}}, {"specs": {"尺码": "L"}, "price_fen": 12_000, "stock": 3}]}


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def setup(deps: Deps) -> dict[str, str]:
    admin = login(deps, "admin")
    product = catalog.create_product(SHIRT, admin, deps)[0]
    return {"admin": admin, "buyer": login(deps, "buyer"), "product": product.product_id,
            "sku": product.skus[1].sku_id}


def checkout(deps: Deps, ctx: dict[str, str]) -> Any:
    line = {"product_id": ctx["product"], "sku_id": ctx["sku"], "quantity": 2}
    return orders.place_order(ctx["buyer"], [(ctx["product"], 2, ctx["sku"])], {"items": [line], "address": ADDRESS},
                              KEY, deps)


def sku_stocks(deps: Deps, product_id: str) -> list[int | None]:
    product = deps.products.get(product_id)
    return [sku.stock for sku in product.skus] if product else []


def test_a_fault_at_any_call_of_a_sku_checkout_then_the_same_request_again_takes_the_skus_units_once(deps, faults):
    context: dict[str, str] = {}

    def set_up(d: Deps) -> dict[str, str]:
        context.update(setup(d))
        return context

    calls, _ = run_with_faults(Case(set_up, checkout, checkout), deps, faults)
    assert calls[:2] == ["BatchGetItem", "TransactWriteItems"]  # one read (buyer, product, SKU stock, key), one write
    assert sku_stocks(deps, context["product"]) == [5, 1]


def cancel_job(deps: Deps, order_id: str) -> Any:
    class Never:
        def expired(self) -> bool:
            return False

    late = NOW + timedelta(minutes=16)
    part = next(p for p in orders.unpaid_parts(late, deps) if p.endswith(f"#{order_id[-1]}"))
    return orders.cancel_unpaid_part(part, None, late, deps, Never()).counts


def test_a_fault_at_any_call_of_the_cancellation_job_then_its_next_run_returns_the_skus_units(deps, faults):
    context: dict[str, str] = {}

    def placed(d: Deps) -> str:
        context.update(setup(d))
        return str(checkout(d, context).order.order_id)

    calls, _ = run_with_faults(Case(placed, cancel_job, cancel_job), deps, faults)
    assert "TransactWriteItems" in calls
    assert sku_stocks(deps, context["product"]) == [5, 3]


def restocked(ctx: dict[str, str]) -> bool:
    return any(e.action == "product.restock" and e.target == f"product#{ctx['product']}" for e in AdminItem.scan())


@pytest.mark.parametrize("delta", [4, -2])
def test_a_fault_at_any_call_of_a_restock_moves_the_stock_with_its_audit_entry_or_not_at_all(deps, faults, delta):
    context: dict[str, str] = {}

    def set_up(d: Deps) -> dict[str, str]:
        context.update(setup(d))
        return context

    def restock(d: Deps, ctx: dict[str, str]) -> Any:
        return catalog.update_product(ctx["product"], {"stock_delta": delta, "sku_id": ctx["sku"]}, ctx["admin"], d)

    def recover(d: Deps, ctx: dict[str, str]) -> Any:
        return None if restocked(ctx) else restock(d, ctx)

    calls, _ = run_with_faults(Case(set_up, restock, recover), deps, faults)
    assert "TransactWriteItems" in calls
    assert sku_stocks(deps, context["product"]) == [5, 3 + delta]
