"""A product's stock over K cells (flash sale, docs/orders.md), the listing without stock, the
due indexes by day and shard, and claims that expire (moto)."""
from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import DomainError
from chalicelib.domain.orders import Order
from chalicelib.services import catalog, groups, orders
from chalicelib.services.sessions import Caller
from chalicelib.store.order_items import OrderItem, idem_key
from chalicelib.store.products import ProductItem, cell_key
from chalicelib.store.tables import table_spec
from tests import order_jobs
from tests.service.test_orders import ADDRESS, login


def split_product(deps: Deps, stock: int = 10, cells: int = 4, product_id: str = "pflash") -> str:
    product = Product(product_id, "秒杀面膜 Flash mask", "beauty", 1_500, 5_000, stock, 2_000, 500,
                      GroupBuy(), stock_cells=cells)
    assert deps.products.put_if_absent(product, deps.clock())
    return product_id


def counts(deps: Deps, product_id: str) -> list[int]:
    return deps.products.cells([product_id])[product_id][1]


def buy(deps: Deps, buyer: str, product_id: str, quantity: int = 1) -> Order:
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, quantity)], body, uuid.uuid4().hex, deps).order


def test_a_split_product_is_created_with_its_stock_spread_over_its_cells(deps):
    pid = split_product(deps, 10, 4)
    assert counts(deps, pid) == [3, 3, 2, 2]
    product = deps.products.get(pid)
    assert (product.stock, product.stock_cells) == (10, 4)
    cell = ProductItem.get(cell_key(pid, 3))
    assert (cell.cell_of, cell.stock, cell.catalog) == (pid, 2, None)  # a cell is never listed
    assert not deps.products.put_if_absent(Product(pid, "x", "beauty", 1, 2, 5, 0, 0, stock_cells=2), deps.clock())
    assert counts(deps, pid) == [3, 3, 2, 2]


def test_a_checkout_takes_from_one_random_cell_and_a_cancellation_returns_it_there(deps, clock, monkeypatch):
    pid = split_product(deps, 10, 4)
    monkeypatch.setattr("chalicelib.domain.stock.random", random.Random(5))
    order = buy(deps, login(deps, "buyer"), pid, 2)
    taken = order.takes[pid]
    assert len(taken) == 1 and taken[0][1] == 2
    assert sum(counts(deps, pid)) == 8 and deps.products.get(pid).stock == 8
    assert deps.orders.get(order.order_id).takes == {pid: taken}  # recorded on the order
    clock.advance(minutes=16)
    assert order_jobs.cancel_unpaid(clock(), deps) == {"cancelled": 1}
    assert counts(deps, pid) == [3, 3, 2, 2]


def test_when_the_drawn_cell_is_short_the_line_comes_from_the_cells_that_hold_it(deps, monkeypatch):
    pid = split_product(deps, 10, 4)
    ProductItem(pid).update(actions=[ProductItem.stock.set(0)])  # cell 0 empty: 7 left in cells 1-3
    monkeypatch.setattr("chalicelib.services.stock.first_take", lambda quantity, cells, rng=None: [(0, quantity)])
    order = buy(deps, login(deps, "buyer"), pid, 3)
    assert order.takes[pid] == [(1, 3)]  # the one cell holding all 3 (cells 2 and 3 hold 2 each)
    assert counts(deps, pid) == [0, 0, 2, 2]


def test_while_the_drawn_cell_holds_the_line_no_cell_is_read(deps):
    pid = split_product(deps, 128, 8)  # 16 a cell: 16 random draws can never empty one (5 a cell could)

    def no_read(product_ids):
        raise AssertionError("the happy path reads no cells")

    deps.products.cells = no_read  # type: ignore[method-assign]
    buyer = login(deps, "buyer")
    takes = [buy(deps, buyer, pid).takes[pid] for _ in range(16)]
    assert len({cell for ((cell, _),) in takes}) > 1  # spread over the cells
    del deps.products.cells
    assert sum(counts(deps, pid)) == 128 - 16


def test_a_line_larger_than_any_cell_is_served_from_several_cells_at_once(deps):
    pid = split_product(deps, 8, 4)  # 2 in each cell
    order = buy(deps, login(deps, "buyer"), pid, 7)
    assert sum(u for _, u in order.takes[pid]) == 7 and len(order.takes[pid]) == 4
    assert sum(counts(deps, pid)) == 1
    refunded = Caller(order.buyer_id, "user")
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    from chalicelib.services import payments

    assert payments.handle_notification(headers, raw, deps).outcome == "paid"
    orders.refund(order.order_id, refunded, "不要了", deps)  # unshipped: every unit back to its cell
    assert counts(deps, pid) == [2, 2, 2, 2]


def test_a_split_product_sells_exactly_its_stock_and_then_refuses_naming_what_is_left(deps):
    pid = split_product(deps, 5, 4)
    buyer = login(deps, "buyer")
    for _ in range(5):
        buy(deps, buyer, pid)
    assert counts(deps, pid) == [0, 0, 0, 0]
    with pytest.raises(DomainError) as refused:
        buy(deps, buyer, pid)
    assert refused.value.code == "OUT_OF_STOCK" and refused.value.details["available"] == 0
    assert deps.products.get(pid).stock == 0


def test_a_group_of_a_split_product_takes_its_units_from_the_cells(deps):
    pid = split_product(deps, 4, 4)
    ProductItem(pid).update(actions=[ProductItem.stock.set(0)])  # a join tries cell 0 first: empty
    leader, member = login(deps, "leader"), login(deps, "member")
    opened = groups.open_group(leader, pid, {"address": ADDRESS}, uuid.uuid4().hex, deps)
    joined = groups.join_group(member, opened.group.group_id, {"address": ADDRESS}, uuid.uuid4().hex, deps)
    assert joined.order.takes[pid][0][0] != 0
    assert sum(counts(deps, pid)) == 1


def test_a_resplit_keeps_the_total_and_stock_returned_to_a_retired_cell_still_counts(deps, clock):
    pid = split_product(deps, 16, 8)
    buyer = login(deps, "buyer")
    order = buy(deps, buyer, pid, 1)
    while order.takes[pid][0][0] < 4:  # an order holding a unit of a cell that the resplit retires
        order = buy(deps, buyer, pid, 1)
    left = deps.products.get(pid).stock
    product, _ = catalog.update_product(pid, {"stock_cells": 4}, "admin", deps)
    assert (product.stock, product.stock_cells) == (left, 4)
    assert sum(counts(deps, pid)[:4]) == left and counts(deps, pid)[4:] == [0, 0, 0, 0]
    clock.advance(minutes=16)
    assert order_jobs.cancel_unpaid(clock(), deps)["cancelled"] >= 1
    after = deps.products.get(pid)
    assert after.stock == 16 and len(counts(deps, pid)) == 8  # the span stays: the returned unit counts
    back, _ = catalog.update_product(pid, {"stock_cells": 1}, "admin", deps)
    assert back.stock == 16 and counts(deps, pid) == [16, 0, 0, 0, 0, 0, 0, 0]
    order = buy(deps, buyer, pid, 16)  # K = 1: all from the product item
    assert order.takes == {} and deps.products.get(pid).stock == 0


def test_a_resplit_racing_a_checkout_reads_again_and_keeps_the_total(deps):
    pid = split_product(deps, 12, 4)
    raced: list[Order] = []
    original_get = ProductItem.get

    def get_then_race(*args, **kwargs):
        item = original_get(*args, **kwargs)
        if not raced and args and args[0] == pid:
            raced.append(buy(deps, login(deps, "racer"), pid, 2))  # after the resplit's read
        return item

    ProductItem.get = get_then_race  # type: ignore[method-assign]
    try:
        product, _ = catalog.update_product(pid, {"stock_cells": 6}, "admin", deps)
    finally:
        ProductItem.get = original_get  # type: ignore[method-assign]
    assert raced and product.stock == 10 and sum(counts(deps, pid)) == 10 and len(counts(deps, pid)) == 6


def test_the_list_shows_the_whole_stock_of_a_split_product_from_one_read_of_its_page(deps):
    pid = split_product(deps, 10, 4)
    deps.products.put_if_absent(Product("pplain", "面膜", "beauty", 1_500, 5_000, 7, 2_000, 500), deps.clock())
    buy(deps, login(deps, "buyer"), pid, 3)
    page = catalog.list_products(login(deps, "viewer"), None, 20, None, deps)
    assert {p.product_id: p.stock for p in page.products} == {pid: 7, "pplain": 7}
    by_category = catalog.list_products(login(deps, "viewer"), "beauty", 20, None, deps)
    assert {p.product_id: p.stock for p in by_category.products} == {pid: 7, "pplain": 7}


def test_neither_listing_index_carries_the_stock_or_anything_an_order_changes(deps):
    spec = {i["IndexName"]: i["Projection"] for i in table_spec(ProductItem)["GlobalSecondaryIndexes"]}
    for name in ("listing", "by_category"):
        assert spec[name]["ProjectionType"] == "INCLUDE"
        assert "stock" not in spec[name]["NonKeyAttributes"]
    pid = split_product(deps, 10, 2)
    entry = next(iter(ProductItem.listing.query("all")))
    assert entry.product_id == pid and entry.stock is None and entry.name


def test_a_cell_named_as_a_product_is_no_product(deps):
    pid = split_product(deps, 10, 2)
    with pytest.raises(DomainError) as refused:
        buy(deps, login(deps, "buyer"), cell_key(pid, 1))
    assert refused.value.code == "PRODUCT_NOT_FOUND"
    assert deps.products.get(cell_key(pid, 1)) is None
    assert deps.analytics.stock_of([pid, cell_key(pid, 1)]) == {pid: ("秒杀面膜 Flash mask", 10)}


def test_an_unpaid_order_is_listed_under_its_day_and_shard_and_the_jobs_plan_sixteen_shards(deps, clock):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    order = buy(deps, login(deps, "buyer"), "p1")
    item = OrderItem.get(order.order_id)
    assert item.unpaid_day == f"{business_date(order.pay_deadline).isoformat()}#{order.order_id[-1]}"
    parts = orders.unpaid_parts(clock(), deps)
    assert len(parts) == 16 and parts[0] == "2026-11-03..2026-11-10#0" and parts[-1].endswith("#f")
    assert len(orders.confirm_parts(clock(), deps)) == len(groups.expire_parts(clock(), deps)) == 16


def test_a_slice_walks_its_shard_a_page_at_a_time_and_resumes_from_its_cursor(deps, clock):
    from chalicelib.services import due

    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 500, 2_000, 500), deps.clock())
    buyer = login(deps, "buyer")
    made = [buy(deps, buyer, "p1") for _ in range(40)]
    shard = made[0].order_id[-1]
    mine = [o for o in made if o.order_id[-1] == shard]
    clock.advance(minutes=16)
    part = next(p for p in orders.unpaid_parts(clock(), deps) if p.endswith(f"#{shard}"))

    class AfterEachPage:
        def expired(self) -> bool:
            return True

    cursor, cancelled, slices = None, 0, 0
    original = due.PAGE
    due.PAGE = 1
    try:
        while True:
            walked = orders.cancel_unpaid_part(part, cursor, clock(), deps, AfterEachPage())
            cancelled, slices, cursor = cancelled + walked.counts["cancelled"], slices + 1, walked.cursor
            if cursor is None:
                break
            assert json.loads(cursor).keys() == {"day", "page"}
    finally:
        due.PAGE = original
    assert cancelled == len(mine) and slices >= len(mine)
    assert {deps.orders.get(o.order_id).status.value for o in mine} == {"cancelled"}
    assert orders.cancel_unpaid_part(part, None, clock(), deps, AfterEachPage()).counts == {"cancelled": 0}


@pytest.mark.parametrize("part", ["2026-11-10#a", "2026-11-10..2026-11-01#a", "2026-11-01..2026-11-10#z", "x"])
def test_a_part_that_is_not_a_days_and_shard_is_refused(deps, clock, part):
    class Never:
        def expired(self) -> bool:
            return False

    with pytest.raises(ValueError):  # noqa: PT011 -- a malformed part: the date or the shard
        orders.cancel_unpaid_part(part, None, clock(), deps, Never())


def test_an_idempotency_claim_expires_by_ttl_a_week_after_it_was_made(deps, clock):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    buyer = login(deps, "buyer")
    body = {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS}
    order = orders.place_order(buyer, [("p1", 1)], body, "key-1", deps).order
    claim = OrderItem.get(idem_key(buyer, "key-1"))
    assert claim.purge_at == clock() + timedelta(days=7)
    assert OrderItem.get(order.order_id).purge_at is None  # the order itself never expires
    from infra.template import ttl_attribute

    assert ttl_attribute(OrderItem) == "purge_at"
