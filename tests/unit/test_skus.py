"""SKUs (规格): a line names its SKU, is priced at the SKU's price and cost, the margin guard
holds per SKU, a group buys one SKU, and each SKU's stock is its own (domain, pure)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import GroupBuy, Product, Sku, share_of
from chalicelib.domain.groups import group_line
from chalicelib.domain.orders import (
    CommissionExceedsMargin,
    InvalidOrder,
    Order,
    OrderStatus,
    OutOfStock,
    SkuNotFound,
    SkuRequired,
    check_margin,
    commission_shares,
    price_lines,
)
from chalicelib.domain.stock import stock_id

RED_M = Sku("s-red-m", {"颜色": "红", "尺码": "M"}, 10_000, 3_000, 5)
RED_L = Sku("s-red-l", {"颜色": "红", "尺码": "L"}, 12_000, 4_000, 0)
SHIRT = Product("p-shirt", "衬衫", "apparel", 3_000, 10_000, 5, 1_000, 500, GroupBuy(),
                skus=(RED_M, RED_L))
PLAIN = Product("p1", "serum", "beauty", 5_000, 15_000, 10, 2_000, 500)
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def test_a_line_of_a_sku_is_priced_at_the_skus_price_and_cost_and_records_it():
    line, = price_lines([("p-shirt", 2, "s-red-m")], {"p-shirt": SHIRT})
    assert (line.unit_price_fen, line.unit_cost_fen, line.paid_fen, line.cost_fen) == (10_000, 3_000, 20_000, 6_000)
    assert (line.sku_id, line.specs) == ("s-red-m", {"颜色": "红", "尺码": "M"})
    assert line.stock_id == stock_id("p-shirt", "s-red-m") == "p-shirt#sku#s-red-m"


def test_two_skus_of_one_product_are_two_lines_and_one_sku_twice_is_refused():
    lines = price_lines([("p-shirt", 1, "s-red-m"), ("p-shirt", 1, "s-red-l")],
                        _stocked(RED_L, 3))
    assert [line.unit_price_fen for line in lines] == [10_000, 12_000]
    with pytest.raises(InvalidOrder):
        price_lines([("p-shirt", 1, "s-red-m"), ("p-shirt", 2, "s-red-m")], {"p-shirt": SHIRT})


def _stocked(sku: Sku, stock: int) -> dict[str, Product]:
    skus = tuple(Sku(s.sku_id, s.specs, s.price_fen, s.cost_fen, stock if s.sku_id == sku.sku_id else s.stock)
                 for s in SHIRT.skus)
    return {"p-shirt": Product(**{**SHIRT.__dict__, "skus": skus})}


@pytest.mark.parametrize(("wanted", "products", "refusal"), [
    ([("p-shirt", 1)], {"p-shirt": SHIRT}, SkuRequired),
    ([("p-shirt", 1, None)], {"p-shirt": SHIRT}, SkuRequired),
    ([("p-shirt", 1, "s-blue")], {"p-shirt": SHIRT}, SkuNotFound),
    ([("p1", 1, "s-red-m")], {"p1": PLAIN}, SkuNotFound),  # a SKU on a product without SKUs
    ([("p-shirt", 6, "s-red-m")], {"p-shirt": SHIRT}, OutOfStock),  # the SKU's stock, not the product's
    ([("p-shirt", 1, "s-red-l")], {"p-shirt": SHIRT}, OutOfStock),
])
def test_a_line_without_its_sku_or_with_anothers_or_beyond_its_stock_is_refused(wanted, products, refusal):
    with pytest.raises(refusal) as raised:
        price_lines(wanted, products)
    assert raised.value.details["product_id"] == wanted[0][0]


def test_a_products_lines_without_skus_keep_working_unchanged():
    line, = price_lines([("p1", 2)], {"p1": PLAIN})
    assert (line.sku_id, line.specs, line.stock_id, line.unit_price_fen) == (None, None, "p1", 15_000)


def test_an_unread_sku_stock_leaves_the_decision_to_the_transaction():
    unread = Product(**{**SHIRT.__dict__, "skus": (Sku("s-red-l", RED_L.specs, 12_000, 4_000, None),)})
    assert price_lines([("p-shirt", 99, "s-red-l")], {"p-shirt": unread})[0].quantity == 99


def test_commission_is_on_what_each_sku_line_paid():
    lines = price_lines([("p-shirt", 1, "s-red-m"), ("p-shirt", 1, "s-red-l")], _stocked(RED_L, 1))
    level1, level2 = commission_shares(lines, Upline("a", "b"), 500)
    assert level1.amount_fen == share_of(10_000, 1_500) + share_of(12_000, 1_500)
    assert level2.amount_fen == share_of(10_000, 500) + share_of(12_000, 500)


def test_the_margin_guard_holds_per_sku_and_names_the_sku_that_breaks_it():
    check_margin(SHIRT, 1_000, 300)
    thin = Sku("s-thin", {"颜色": "蓝"}, 10_000, 8_000, 1)
    with pytest.raises(CommissionExceedsMargin) as refused:
        check_margin(Product(**{**SHIRT.__dict__, "skus": (RED_M, thin)}), 1_000, 300)
    assert refused.value.details["sku_id"] == "s-thin"
    # the group price of a SKU is checked too: 30% off 10,000 leaves 7,000 − 5,000 = 2,000 of margin
    group_thin = Sku("s-g", {"颜色": "绿"}, 10_000, 5_000, 1)
    check_margin(Product(**{**SHIRT.__dict__, "group_buy": None, "skus": (group_thin,)}), 1_000, 300)
    with pytest.raises(CommissionExceedsMargin):
        check_margin(Product(**{**SHIRT.__dict__, "skus": (group_thin,)}), 1_000, 300)


@given(price=st.integers(1, 10**6), cost=st.integers(0, 10**6), l1=st.integers(0, 5_000), l2=st.integers(0, 5_000))
def test_a_sku_the_guard_accepts_never_pays_out_more_than_its_margin(price, cost, l1, l2):
    sku = Sku("s", {"尺码": "M"}, price, cost, 1)
    product = Product("p", "x", "c", 0, 1, 1, l1, l2, skus=(sku,))
    try:
        check_margin(product, 1_000, 300)
    except CommissionExceedsMargin:
        return
    line, = price_lines([("p", 1, "s")], {"p": product})
    paid = sum(s.amount_fen for s in commission_shares([line], Upline("a", "b"), 1_000))
    assert paid + 2 * share_of(price, 300) <= price - cost


def test_a_group_buys_one_sku_at_the_skus_group_price():
    line = group_line(SHIRT, GroupBuy(), "s-red-m")
    assert (line.sku_id, line.quantity, line.unit_price_fen, line.unit_cost_fen) == ("s-red-m", 1, 7_000, 3_000)
    with pytest.raises(SkuRequired):
        group_line(SHIRT, GroupBuy(), None)
    with pytest.raises(OutOfStock):
        group_line(SHIRT, GroupBuy(), "s-red-l")  # its stock is 0


def test_a_sku_lines_units_are_taken_from_and_returned_to_the_skus_own_stock():
    line, = price_lines([("p-shirt", 2, "s-red-m")], {"p-shirt": SHIRT})
    order = Order("o1", "b", OrderStatus.PENDING_PAYMENT, [line], line.paid_fen, NOW, NOW)
    assert order.takes_of(line) == [(0, 2)] and line.stock_id == "p-shirt#sku#s-red-m"


def test_a_product_with_skus_offers_one_variant_per_sku():
    assert [(v.price_fen, v.cost_fen, v.stock) for v in SHIRT.variants()] == [(10_000, 3_000, 5), (12_000, 4_000, 0)]
    assert PLAIN.variants() == [PLAIN]
    assert RED_M.label() == "红 / M"
