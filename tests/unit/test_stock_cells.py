"""A product's stock split over cells (chalicelib/domain/stock.py) and the due-day shards of the
order indexes (domain/orders.py ``due_partition``)."""
from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.orders import due_partition, id_shard
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.stock import MAX_CELLS, allocate, check_cells, first_take, resplit, split


@pytest.mark.parametrize(("total", "cells", "counts"), [
    (10, 4, [3, 3, 2, 2]), (3, 8, [1, 1, 1, 0, 0, 0, 0, 0]), (0, 2, [0, 0]), (7, 1, [7])])
def test_a_split_spreads_the_stock_evenly_and_sums_to_it(total, cells, counts):
    assert split(total, cells) == counts


@pytest.mark.parametrize("cells", [0, -1, MAX_CELLS + 1])
def test_a_product_has_one_to_max_cells(cells):
    with pytest.raises(ValueError, match="cells"):
        check_cells(cells)
    with pytest.raises(ValueError, match="cells"):
        split(10, cells)


def test_the_first_take_is_the_whole_line_from_one_of_the_active_cells_at_random():
    rng = random.Random(7)
    drawn = {first_take(3, 8, rng)[0] for _ in range(400)}
    assert {cell for cell, _ in drawn} == set(range(8)) and {units for _, units in drawn} == {3}


def test_a_line_one_cell_holds_is_taken_from_such_a_cell_preferring_the_active_ones():
    rng = random.Random(1)
    assert {tuple(allocate(2, [0, 5, 1, 2], 4, rng) or []) for _ in range(100)} == {((1, 2),), ((3, 2),)}
    # cell 4 is retired (K went from 5 down to 4): used only when no active cell holds the line
    assert allocate(3, [0, 1, 0, 0, 9], 4, rng) == [(4, 3)]


def test_a_line_no_single_cell_holds_takes_from_several_and_exactly_its_quantity():
    takes = allocate(6, [2, 3, 0, 4], 4, random.Random(3))
    assert takes is not None and sum(units for _, units in takes) == 6
    counts = [2, 3, 0, 4]
    assert all(0 < units <= counts[cell] for cell, units in takes) and len({c for c, _ in takes}) == len(takes)


def test_cells_holding_less_than_the_line_in_all_refuse_it():
    assert allocate(10, [2, 3, 0, 4], 4) is None
    with pytest.raises(ValueError, match="one unit"):
        allocate(0, [1], 1)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=MAX_CELLS), st.integers(1, 120), st.integers(0, 2**32))
def test_an_allocation_never_takes_more_than_a_cell_holds_nor_other_than_the_quantity(counts, quantity, seed):
    takes = allocate(quantity, counts, len(counts), random.Random(seed))
    if sum(counts) < quantity:
        assert takes is None
    else:
        assert takes is not None and sum(u for _, u in takes) == quantity
        assert all(1 <= u <= counts[c] for c, u in takes) and len({c for c, _ in takes}) == len(takes)


@given(st.lists(st.integers(0, 1_000), min_size=1, max_size=MAX_CELLS), st.integers(1, MAX_CELLS))
def test_a_resplit_keeps_the_total_and_never_shrinks_the_span(counts, cells):
    after = resplit(counts, cells)
    assert sum(after) == sum(counts) and len(after) == max(len(counts), cells)
    assert all(c == 0 for c in after[cells:]) and max(after[:cells]) - min(after[:cells]) <= 1


def test_a_due_partition_is_the_day_and_one_of_sixteen_shards():
    assert due_partition(date(2026, 12, 5), "o20261205120000a1b2c3d4e5f6") == "2026-12-05#6"
    assert due_partition(date(2026, 12, 5), "gABC") in {f"2026-12-05#{s}" for s in SHARDS}
    assert id_shard("o-test-1") == id_shard("o-test-1")  # not hex: a CRC of the id, stable


@given(st.text(min_size=1, max_size=40))
def test_every_id_has_a_shard(item_id):
    assert id_shard(item_id) in SHARDS


def test_random_order_ids_spread_over_all_shards():
    import secrets

    seen = {id_shard(f"o20261205120000{secrets.token_hex(6)}") for _ in range(2_000)}
    assert seen == set(SHARDS)
