"""The metric formulas on hand-computed numbers (DOMAIN.md §3, §5), and what a fact adds given
what was known before it."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import metrics as f
from chalicelib.domain.activity import (
    BuyerState,
    DistributorState,
    Event,
    EventTimeOutOfRange,
    EventType,
    check_event_time,
    distributor_active,
    event_id,
    paid,
    registered,
    session_change,
)

D = date(2026, 11, 10)


def test_rates_are_floored_basis_points_and_zero_over_nothing():
    assert f.ratio_bp(1, 3) == 3_333
    assert f.ratio_bp(2, 3) == 6_666
    assert f.ratio_bp(5, 0) == 0


def test_gmv_aov_and_gross_margin_of_a_day():
    # 3 orders paid for 150 + 50 + 50 yuan, one of 50 refunded the same day
    assert f.gmv_fen(25_000, 5_000) == 20_000
    assert f.avg_order_value_fen(25_000, 3) == 8_333  # 83.33 yuan, floored
    assert f.avg_order_value_fen(0, 0) == 0
    # cost 50 + 20 + 20 = 90 yuan, the refunded one cost 20: net sales 200, net cost 70 -> 65%
    assert f.gross_margin_bp(25_000, 9_000, 5_000, 2_000) == 6_500
    # DOMAIN.md §3 face mask: 70% margin
    assert f.gross_margin_bp(10_000, 3_000, 0, 0) == 7_000
    assert f.gross_margin_bp(5_000, 2_000, 5_000, 2_000) == 0  # nothing left to sell


def test_bounce_conversion_and_change_against_the_7_day_mean():
    assert f.bounce_rate_bp(1, 4) == 2_500  # DOMAIN.md §5: 25% after optimisation
    assert f.conversion_bp(3, 40) == 750
    # the 7 days before: 800, no visitors, 600, 700, 900, 1000, 600 -> mean of 6 = 4,600 / 6 = 766
    assert f.change_vs_mean_bp(500, [800, None, 600, 700, 900, 1_000, 600]) == -266
    assert f.change_vs_mean_bp(500, [None] * 7) == 0


def test_new_user_conversion_counts_only_users_registered_inside_the_7_day_window():
    new = [10, 0, 0, 0, 0, 0, 10]  # 20 registrations: 10 on D-6, 10 on D
    payments = [[0] * 7 for _ in range(7)]
    payments[0][0] = 1  # day D-6: one registered that day
    payments[3][3] = 1  # day D-3: one registered 3 days before (D-6)
    payments[2][5] = 1  # day D-4: registered on D-9, outside the window: not counted
    payments[6][0] = 2  # day D: two registered that day
    assert f.new_user_conversion_bp(new, payments) == 2_000  # 4 / 20
    with pytest.raises(ValueError, match="the window is 7 days"):
        f.new_user_conversion_bp(new[:6], payments)


def test_repurchase_retention_and_on_time_delivery():
    assert f.repurchase_rate_bp(1, 4) == 2_500
    assert f.distributor_retention_bp(3, 10) == 3_000  # DOMAIN.md §5 baseline 30%
    assert f.on_time_delivery_bp(2, 3) == 6_666


def test_inventory_turnover_and_sell_through_of_a_product():
    assert f.inventory_turnover_days(35, 5) == 7  # a hot item: 7 days of cover
    assert f.inventory_turnover_days(36, 5) == 8  # rounded up
    assert f.inventory_turnover_days(10, 0) is None
    assert f.sell_through_bp(6, 4) == 6_000  # DOMAIN.md §3 face mask 60%
    assert f.sell_through_bp(0, 0) == 0


def test_date_ranges_are_calendar_days_in_order_and_at_most_366_days():
    assert f.date_range("2025-11-10", "2026-11-10") == (date(2025, 11, 10), date(2026, 11, 10))
    with pytest.raises(f.InvalidDateRange):
        f.date_range("2025-11-09", "2026-11-10")
    with pytest.raises(f.InvalidDateRange):
        f.date_range("2026-11-10", "2026-11-09")
    with pytest.raises(f.InvalidDate):
        f.date_range("2026-02-29", "2026-03-01")


def test_a_session_counts_once_and_bounces_until_its_second_page():
    assert session_change(0, 1) == {"sessions": 1, "bounced": 1}
    assert session_change(1, 1) == {"sessions": 0, "bounced": -1}
    assert session_change(0, 3) == {"sessions": 1, "bounced": 0}
    assert session_change(2, 1) == {"sessions": 0, "bounced": 0}
    assert session_change(1, 0) == {}


def test_a_buyer_is_a_paying_user_once_a_day_and_a_repeat_buyer_within_30_days():
    state, counts = registered(BuyerState(), D)
    assert counts == {"new_users": 1} and registered(state, D)[1] == {}
    state, counts = paid(state, D + timedelta(days=2))
    assert counts == {"nuc2": 1, "paying_users": 1}
    state, counts = paid(state, D + timedelta(days=2))
    assert counts == {"repeat_buyers": 1}  # second order the same day
    state, counts = paid(state, D + timedelta(days=2))
    assert counts == {}
    state, counts = paid(state, D + timedelta(days=31))  # 29 days after the last: still within 30
    assert counts == {"paying_users": 1, "repeat_buyers": 1}
    state, counts = paid(state, D + timedelta(days=61))  # 30 days after: outside
    assert counts == {"paying_users": 1}
    state, counts = paid(state, D + timedelta(days=61))
    assert counts == {"repeat_buyers": 1}
    assert paid(state, D)[1] == {}  # out of order: not distinct


def test_a_first_payment_after_7_days_is_no_new_user_conversion():
    state, _ = registered(BuyerState(), D)
    assert paid(state, D + timedelta(days=6))[1] == {"nuc6": 1, "paying_users": 1}
    assert paid(state, D + timedelta(days=7))[1] == {"paying_users": 1}
    assert paid(BuyerState(), D)[1] == {"paying_users": 1}  # registered before analytics existed


def test_a_distributor_is_active_once_a_day_and_retained_when_active_the_month_before():
    state, counts = distributor_active(DistributorState(), date(2026, 10, 31))
    assert counts == {"active_distributors": 1, "dist_month_first": 1}
    state, counts = distributor_active(state, date(2026, 10, 31))
    assert counts == {}
    state, counts = distributor_active(state, date(2026, 11, 2))
    assert counts == {"active_distributors": 1, "dist_month_first": 1, "dist_retained": 1}
    state, counts = distributor_active(state, date(2026, 11, 3))
    assert counts == {"active_distributors": 1}
    state, counts = distributor_active(state, date(2027, 1, 5))  # skipped December: not retained
    assert counts == {"active_distributors": 1, "dist_month_first": 1}


def test_an_event_id_is_its_content_and_times_are_checked():
    at = datetime(2026, 11, 10, 3, 59, tzinfo=UTC)
    one = Event(EventType.PAGE_VIEW, "s1", at, "/a")
    assert event_id("u1", one) == event_id("u1", Event(EventType.PAGE_VIEW, "s1", at.astimezone(), "/a"))
    assert event_id("u1", one) != event_id("u1", Event(EventType.PAGE_VIEW, "s1", at, "/b"))
    assert event_id("u1", one) != event_id("u2", one)
    now = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
    check_event_time(now - timedelta(hours=24), now)
    check_event_time(now + timedelta(minutes=5), now)
    for bad in (now - timedelta(hours=24, seconds=1), now + timedelta(minutes=5, seconds=1)):
        with pytest.raises(EventTimeOutOfRange):
            check_event_time(bad, now)
