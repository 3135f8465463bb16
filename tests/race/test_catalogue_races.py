"""SKU stock and restocks under concurrency, on DynamoDB Local: 30 buyers racing for two SKUs get
exactly each SKU's units; restocks (adds and removals) racing checkouts of a plain product, a
split one and a SKU leave exactly the stock their successes say, never below 0."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.services import catalog, orders
from chalicelib.store.admin import AdminItem
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "北京"}


def shirt(deps: Deps, admin: str, medium: int, large: int) -> Product:
    fields = {"name": "衬衫", "category": "apparel", "cost_fen": 3_000, "price_fen": 10_000, "stock": medium,
              "skus": [{"specs": {"尺码": "M"}}, {"specs": {"尺码": "L"}, "price_fen": 12_000, "stock": large}]}
    return catalog.create_product(fields, admin, deps)[0]


def buy(deps: Deps, buyer: str, product_id: str, sku_id: str | None, quantity: int = 1) -> Any:
    body = {"items": [{"product_id": product_id, "sku_id": sku_id, "quantity": quantity}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, quantity, sku_id)], body, uuid.uuid4().hex, deps).order


def test_thirty_buyers_racing_for_two_skus_get_exactly_each_skus_units(deps):
    product = shirt(deps, login(deps, "admin"), 7, 5)
    medium, large = product.skus
    wanted = [medium.sku_id if n % 2 else large.sku_id for n in range(30)]  # 15 buyers each
    buyers = [login(deps, "b") for _ in wanted]
    outcomes = race([lambda b=b, s=s: buy(deps, b, product.product_id, s) for b, s in zip(buyers, wanted, strict=True)])
    got = Counter(o.lines[0].sku_id if not isinstance(o, str) else o for o in outcomes)
    assert got == {medium.sku_id: 7, large.sku_id: 5, "OUT_OF_STOCK": 18}
    after = deps.products.get(product.product_id)
    assert [s.stock for s in after.skus] == [0, 0] and after.stock == 0
    assert {o.lines[0].unit_price_fen for o in outcomes if not isinstance(o, str) and o.lines[0].sku_id == large.sku_id} \
        == {12_000}


@pytest.mark.parametrize("kind", ["plain", "split", "sku"])
def test_restocks_racing_checkouts_leave_exactly_the_stock_their_successes_say(deps, kind):
    admin = login(deps, "admin")
    sku_id = None
    if kind == "sku":
        product = shirt(deps, admin, 6, 0)
        product_id, sku_id = product.product_id, product.skus[0].sku_id
    else:
        product_id = f"p{uuid.uuid4().hex[:10]}"
        deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 6, 2_000, 500,
                                            stock_cells=4 if kind == "split" else 1), deps.clock())
    buyers = [login(deps, "b") for _ in range(20)]
    deltas = [4, 4, -3, -3, 2, -5]
    change: dict[str, Any] = {"sku_id": sku_id} if sku_id else {}
    calls = [lambda b=b: buy(deps, b, product_id, sku_id) for b in buyers] + [
        lambda d=d: catalog.update_product(product_id, {"stock_delta": d, **change}, admin, deps) for d in deltas]
    outcomes = race(calls)
    sold = sum(1 for o in outcomes[:20] if not isinstance(o, str))
    moved = sum(d for d, o in zip(deltas, outcomes[20:], strict=True) if not isinstance(o, str))
    assert set(o for o in outcomes if isinstance(o, str)) <= {"OUT_OF_STOCK"}
    after = deps.products.get(product_id)
    stock = after.sku(sku_id).stock if sku_id else after.stock
    assert stock == 6 + moved - sold >= 0
    if kind == "split":
        assert min(deps.products.cells([product_id])[product_id][1]) >= 0
    entries = [e for e in AdminItem.scan() if e.target == f"product#{product_id}" and e.action == "product.restock"]
    assert sorted(json.loads(e.state)["after"]["stock_delta"] for e in entries) == sorted(
        d for d, o in zip(deltas, outcomes[20:], strict=True) if not isinstance(o, str))  # one entry per success


def test_the_admin_list_filters_and_searches_on_dynamodb_local(deps):
    """DynamoDB filters no key attribute (moto does): a product id in q is a key lookup."""
    admin = login(deps, "admin")
    made = [shirt(deps, admin, 1, 1) for _ in range(3)]
    catalog.update_product(made[1].product_id, {"listed": False, "name": "下架衬衫"}, admin, deps)
    assert [p.product_id for p in catalog.admin_products(None, made[0].product_id, 20, None, deps)[0]] == [
        made[0].product_id]
    assert catalog.admin_products(False, made[0].product_id, 20, None, deps)[0] == []
    assert [p.product_id for p in catalog.admin_products(None, "下架", 20, None, deps)[0]] == [made[1].product_id]
    unlisted = [p.product_id for p in catalog.admin_products(False, None, 100, None, deps)[0]]
    assert made[1].product_id in unlisted and made[0].product_id not in unlisted
    assert catalog.admin_products(None, "0", 20, None, deps)[1] is None  # a name search, never a 500
