"""The repurchase cycle's rules: a payment's gap, the median of a histogram of gaps, the lag
beside the seed's cycle (DOMAIN.md §3)."""
from __future__ import annotations

import statistics
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.repurchase import cycles, gap_days, median_days, merged, moves_last_paid

DAY = date(2026, 11, 10)


def test_a_first_payment_in_a_category_adds_no_gap_and_becomes_the_last_paid_day():
    assert gap_days(None, DAY) is None
    assert moves_last_paid(None, DAY)


def test_a_later_payment_adds_the_days_since_the_last_one():
    assert gap_days(DAY - timedelta(days=30), DAY) == 30
    assert moves_last_paid(DAY - timedelta(days=30), DAY)


def test_another_order_the_same_day_or_an_earlier_one_adds_nothing_and_moves_nothing():
    assert gap_days(DAY, DAY) is None and not moves_last_paid(DAY, DAY)
    assert gap_days(DAY + timedelta(days=1), DAY) is None and not moves_last_paid(DAY + timedelta(days=1), DAY)


def test_the_median_of_an_odd_count_is_the_middle_gap():
    assert median_days({20: 1, 30: 1, 40: 1}) == 30
    assert median_days({7: 5, 90: 1, 180: 1}) == 7


def test_the_median_of_an_even_count_is_the_floored_mean_of_the_two_middle_gaps():
    assert median_days({30: 1, 45: 1}) == 37
    assert median_days({10: 2, 20: 2}) == 15


def test_no_repurchase_has_no_median():
    assert median_days({}) is None
    assert median_days({30: 0}) is None


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=1, max_value=800), min_size=1, max_size=60))
def test_the_median_of_a_histogram_is_the_median_of_the_gaps_it_counts(gaps):
    histogram: dict[int, int] = {}
    for gap in gaps:
        histogram[gap] = histogram.get(gap, 0) + 1
    assert median_days(histogram) == int(statistics.median(gaps) // 1)


def test_histograms_of_days_add_up():
    assert merged([{30: 1}, {30: 2, 40: 1}, {}, {50: 0}]) == {30: 3, 40: 1}


def test_the_most_lagging_category_comes_first_with_its_lag_beside_the_seed():
    window = {"beauty": {30: 1, 32: 1, 34: 1}, "food": {120: 2}, "toys": {10: 1}}
    seed = {"beauty": 30, "food": 90, "appliance": 180}
    found = cycles(window, seed)
    assert [(c.category, c.median_days, c.repurchases, c.seed_days, c.lag_days) for c in found] == [
        ("food", 120, 2, 90, 30),
        ("beauty", 32, 3, 30, 2),
        ("appliance", None, 0, 180, None),
        ("toys", 10, 1, None, None),
    ]
