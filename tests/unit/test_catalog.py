"""Money on products (chalicelib/domain/catalog.py): floors to the fen, never pays past the margin."""
from __future__ import annotations

import pytest

from chalicelib.domain.catalog import DEMO_CATALOGUE, GroupBuy, Product, share_of


@pytest.mark.parametrize(("amount", "rate", "share"), [
    (15_000, 2_000, 3_000), (999, 1_500, 149), (1, 9_999, 0), (0, 2_000, 0), (5_000, 10_000, 5_000)])
def test_a_share_is_floored_to_the_fen(amount, rate, share):
    assert share_of(amount, rate) == share


@pytest.mark.parametrize(("amount", "rate"), [(-1, 1_000), (1_000, -1)])
def test_a_share_of_a_negative_amount_or_rate_is_refused(amount, rate):
    with pytest.raises(ValueError, match="never negative"):
        share_of(amount, rate)


@pytest.mark.parametrize(("price", "group_price"), [(15_000, 10_500), (5_000, 3_500), (999, 700)])
def test_a_group_buy_pays_seventy_percent_with_the_discount_floored(price, group_price):
    assert GroupBuy().price_fen(price) == group_price  # 150.00 yuan → 105.00; 9.99 → 7.00 (discount 2.99)


def test_a_product_without_a_group_buy_has_no_group_price():
    beauty = Product("p", "serum", "beauty", 5_000, 15_000, 1, 2_000, 500)
    assert beauty.group_price_fen is None
    assert Product("p", "nuts", "food", 2_000, 5_000, 1, 1_600, 500, GroupBuy()).group_price_fen == 3_500


@pytest.mark.parametrize(("cost", "price", "level1_bp", "profit"), [
    # DOMAIN.md §2; level 2 is the default 5%. Printed profit (price − cost − level 1): 70, 22, 550 yuan.
    (5_000, 15_000, 2_000, 15_000 - 5_000 - 3_000 - 750),  # beauty: 150 − 50 − 30 − 7.50 = 62.50 yuan
    (2_000, 5_000, 1_600, 5_000 - 2_000 - 800 - 250),  # food: 50 − 20 − 8 − 2.50 = 19.50 yuan
    (80_000, 150_000, 1_000, 150_000 - 80_000 - 15_000 - 7_500),  # appliance: 1500 − 800 − 150 − 75 = 475 yuan
], ids=["beauty", "food", "appliance"])
def test_platform_profit_is_price_less_cost_less_both_levels_of_commission(cost, price, level1_bp, profit):
    product = Product("p", "x", "c", cost, price, 1, level1_bp, 500)
    assert product.platform_profit_fen == profit
    assert product.platform_profit_fen + share_of(price, 500) == {15_000: 7_000, 5_000: 2_200, 150_000: 55_000}[price]


def test_the_commission_preview_adds_the_tier_uplift_to_the_level_one_rate():
    beauty = Product("p", "serum", "beauty", 5_000, 15_000, 1, 2_000, 500)
    assert [beauty.commission_preview_fen(uplift) for uplift in (0, 500, 1_000)] == [3_000, 3_750, 4_500]


@pytest.mark.parametrize("product", DEMO_CATALOGUE, ids=lambda p: p.product_id)
def test_no_demo_product_pays_a_partner_more_than_its_margin(product):
    for paid in filter(None, (product.price_fen, product.group_price_fen)):
        payout = share_of(paid, product.level1_rate_bp + 1_000) + share_of(paid, product.level2_rate_bp) + share_of(paid, 300)
        assert payout <= paid - product.cost_fen
