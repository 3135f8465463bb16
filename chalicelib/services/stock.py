"""Taking an order's stock from a product's cells (domain/stock.py, docs/orders.md "Flash sale").

Checkout tries one random cell of each split product, reading nothing more: the take's
condition (the cell holds the units) decides. Only when a take is refused are the cells read
(consistently) and the line served from the cells that hold it, or refused OUT_OF_STOCK when all
of them together do not. A second refusal means a cell moved since that read: the whole step is
read again (``ReadAgain``), as after any lost race.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.domain.orders import Order, OutOfStock
from chalicelib.domain.stock import Take, allocate, first_take
from chalicelib.services.retry import ReadAgain

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


def create_taking_stock(order: Order, cells_of: Mapping[str, int], create: Callable[[Order], None],
                        deps: Deps, rng: random.Random | None = None) -> Order:
    """``create(order)`` with its lines' stock takes; returns the order as created (its takes
    recorded). ``cells_of``: each product's K as read (a product not named, and every SKU: 1,
    cell 0 first)."""
    takes = {line.stock_id: first_take(line.quantity, cells_of[line.stock_id], rng)
             for line in order.lines if cells_of.get(line.stock_id, 1) > 1}
    try:
        return _created(replace(order, takes=takes), create)
    except OutOfStock:
        pass  # that cell is short (or the product is): read the cells, serve from those that hold it
    attempt = replace(order, takes=_allocated(order, deps, rng))
    try:
        return _created(attempt, create)
    except OutOfStock as short:
        raise ReadAgain("a stock cell changed since it was read") from short


def _created(order: Order, create: Callable[[Order], None]) -> Order:
    create(order)
    return order


def _allocated(order: Order, deps: Deps, rng: random.Random | None) -> dict[str, list[Take]]:
    """Each line served from its stock's cells (its product's, or its SKU's one) as read now;
    OUT_OF_STOCK (naming the line and what all cells hold) when they do not hold its quantity."""
    read = deps.products.cells([line.stock_id for line in order.lines])
    takes: dict[str, list[Take]] = {}
    for index, line in enumerate(order.lines):
        active, counts = read.get(line.stock_id, (1, [0]))
        plan = allocate(line.quantity, counts, active, rng)
        if plan is None:
            raise OutOfStock("not enough stock", line=index, product_id=line.product_id, available=sum(counts),
                             **({"sku_id": line.sku_id} if line.sku_id else {}))
        if plan != [(0, line.quantity)]:
            takes[line.stock_id] = plan
    return takes
