"""The windows carried from day to day: 7-day rings and month sums, a new month, gaps."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.domain.metric_windows import Window, advance, empty, fold


def counts(**given: int) -> dict[str, int]:
    base = {"paying_users": 0, "visitors": 0, "new_users": 0, "dist_month_first": 0, "dist_retained": 0}
    base.update({f"nuc{k}": 0 for k in range(7)})
    return {**base, **given}


def test_the_rings_keep_the_last_seven_days_oldest_first():
    window = empty(date(2026, 11, 1))
    for i in range(1, 10):
        window = advance(window, date(2026, 11, 1) + timedelta(days=i), counts(visitors=i, paying_users=1, nuc0=i))
    assert window.day == date(2026, 11, 10)
    assert window.visitors == (3, 4, 5, 6, 7, 8, 9)
    assert [row[0] for row in window.first_payments] == [3, 4, 5, 6, 7, 8, 9]


def test_month_sums_run_through_the_month_and_roll_over_into_last_month():
    window = empty(date(2026, 10, 29))
    window = advance(window, date(2026, 10, 30), counts(dist_month_first=2))
    window = advance(window, date(2026, 10, 31), counts(dist_month_first=1))
    assert (window.month_first, window.last_month_first) == (3, 0)
    window = advance(window, date(2026, 11, 1), counts(dist_month_first=2, dist_retained=1))
    assert (window.month_first, window.month_retained, window.last_month_first) == (2, 1, 3)
    window = advance(window, date(2026, 11, 2), counts(dist_retained=1, dist_month_first=1))
    assert (window.month_first, window.month_retained, window.last_month_first) == (3, 2, 3)


def test_a_month_without_any_day_leaves_no_last_month():
    window = empty(date(2026, 9, 30))
    window = advance(window, date(2026, 10, 1), counts(dist_month_first=4))
    window = fold(window, {}, date(2026, 12, 1))  # nothing in November
    assert (window.month_first, window.last_month_first) == (0, 0)


def test_a_window_advances_only_from_the_day_before_and_survives_json():
    with pytest.raises(ValueError, match="the window of 2026-11-02 is needed"):
        advance(empty(date(2026, 11, 1)), date(2026, 11, 3), counts())
    window = fold(empty(date(2026, 11, 1)), {date(2026, 11, 2): counts(visitors=5, dist_month_first=1)},
                  date(2026, 11, 4))
    assert Window.of(window.as_dict()) == window
