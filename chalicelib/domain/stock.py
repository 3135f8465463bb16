"""A product's stock split over K cells (flash sale, docs/orders.md "Flash sale").

One DynamoDB item takes about 1,000 write units a second, and a checkout writes the product's
stock inside a transaction (2 units a write): about 500 checkouts a second per item. A product
may therefore keep its stock in K cells (``stock_cells``, 1 by default, at most ``MAX_CELLS``):
cell 0 is the product item's own ``stock``, cells 1..K-1 items of their own. The product's stock
is the sum of its cells, always: every take is conditioned on its cell's count, every return adds
to a cell that exists. Checkout takes from one cell drawn at random; when that cell is short, the
cells are read and the line is served from the cells that have it (``allocate``).

Cells are never deleted: after K goes down, ``span`` (the most cells the product ever had) still
names every cell that may hold stock (a cancellation returning units to a cell it took them from),
so the total and the fallback read all ``span`` cells, and the random draw only the first K.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

MAX_CELLS = 32
SKU = "#sku#"

# (cell, units): one conditioned take from (or return to) one cell.
Take = tuple[int, int]


def stock_id(product_id: str, sku_id: str | None) -> str:
    """What a line's units are counted in: the product (its cells), or one of its SKUs, which is
    an item of its own (``"<product>#sku#<sku>"``) and never split: the SKUs already spread a
    product's checkouts over as many items (docs/catalogue.md "Stock")."""
    return f"{product_id}{SKU}{sku_id}" if sku_id else product_id


def check_cells(cells: int) -> int:
    """The number of cells a product may have: 1 to MAX_CELLS (the API validates it first)."""
    if not 1 <= cells <= MAX_CELLS:
        raise ValueError(f"a product's stock has 1 to {MAX_CELLS} cells")
    return cells


def split(total: int, cells: int) -> list[int]:
    """``total`` spread over ``cells`` as evenly as whole units go (the first cells take the
    remainder); sums to ``total``."""
    if total < 0:
        raise ValueError("stock is never negative")
    base, extra = divmod(total, check_cells(cells))
    return [base + (1 if cell < extra else 0) for cell in range(cells)]


def first_take(quantity: int, cells: int, rng: random.Random | None = None) -> list[Take]:
    """Checkout's first try: the whole line from one of the first ``cells`` cells, at random
    (nothing read: the take's condition tells whether that cell had it)."""
    draw = (rng or random).randrange(check_cells(cells))  # load spreading, not a secret
    return [(draw, quantity)]


def allocate(quantity: int, counts: Sequence[int], active: int, rng: random.Random | None = None) -> list[Take] | None:
    """After a short cell: serve ``quantity`` from the cells as read (``counts[i]`` is cell i's
    count, over the product's whole span). One cell that has it all, drawn at random among the
    ``active`` ones first, then among the retired ones; else units from several cells, in random
    order (each take conditioned on its cell). None when the cells hold fewer units in all."""
    if quantity < 1:
        raise ValueError("a take is of one unit or more")
    if sum(max(c, 0) for c in counts) < quantity:
        return None
    pick = rng or random
    for group in (range(min(active, len(counts))), range(min(active, len(counts)), len(counts))):
        whole = [cell for cell in group if counts[cell] >= quantity]
        if whole:
            return [(pick.choice(whole), quantity)]
    order = [cell for cell in range(len(counts)) if counts[cell] > 0]
    pick.shuffle(order)
    takes: list[Take] = []
    left = quantity
    for cell in order:
        units = min(left, counts[cell])
        takes.append((cell, units))
        left -= units
        if left == 0:
            break
    return takes


def resplit(counts: Sequence[int], cells: int) -> list[int]:
    """The counts after re-splitting to ``cells`` cells: the same total over the first ``cells``,
    and 0 in every retired cell of the span (never shorter than ``counts``)."""
    spread = split(sum(counts), cells)
    return spread + [0] * max(len(counts) - cells, 0)
