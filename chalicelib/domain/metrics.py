"""The formulas of the daily metrics (DOMAIN.md §3, §5, §8), each a pure function of counters.

Integers only: money in fen, rates in basis points (10% = 1,000), every division floored
(``ratio_bp``); a rate over nothing is 0. The names and one-line definitions of the published
metrics are in ``metric_catalog``; the counters come from ``store.analytics``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from chalicelib.domain.errors import Kind, error

BP = 10_000
HOT_TURNOVER_DAYS = 7  # DOMAIN.md §3: hot items turn over within 7 days
NEW_USER_WINDOW_DAYS = 7  # issue 7: new users who paid within 7 days
REPURCHASE_WINDOW_DAYS = 30  # issue 7: buyers with ≥ 2 paid orders in 30 days
MAX_RANGE_DAYS = 366  # days one request of GET /v1/admin/metrics may span

InvalidDate = error("INVALID_DATE", Kind.INVALID, "A date is not a calendar day written YYYY-MM-DD.")
InvalidDateRange = error("INVALID_DATE_RANGE", Kind.INVALID, "from is after to, or the range spans more than 366 days.")


def date_range(from_text: str, to_text: str) -> tuple[date, date]:
    """The days ``from``..``to`` of a metrics request: calendar days, ``from ≤ to``, at most 366
    days inclusive."""
    try:
        first, last = date.fromisoformat(from_text), date.fromisoformat(to_text)
    except ValueError as exc:
        raise InvalidDate("dates are calendar days written YYYY-MM-DD") from exc
    if first > last:
        raise InvalidDateRange("from is after to", **{"from": from_text, "to": to_text})
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidDateRange(f"a range spans at most {MAX_RANGE_DAYS} days", days=(last - first).days + 1)
    return first, last


def ratio_bp(part: int, whole: int) -> int:
    """``part / whole`` in basis points, floored; 0 when ``whole`` is 0."""
    if whole <= 0:
        return 0
    return part * BP // whole


def gmv_fen(paid_fen: int, refunded_fen: int) -> int:
    """GMV of a day: what buyers paid on the day minus what was refunded on the day (may be
    negative on a day of large refunds)."""
    return paid_fen - refunded_fen


def avg_order_value_fen(paid_fen: int, orders: int) -> int:
    """Average order value (客单价, DOMAIN.md §5, baseline 80 yuan): amount paid on the day / orders
    paid on the day, floored to the fen; 0 without orders."""
    return paid_fen // orders if orders > 0 else 0


def gross_margin_bp(paid_fen: int, paid_cost_fen: int, refunded_fen: int, refunded_cost_fen: int) -> int:
    """Gross margin (DOMAIN.md §3, e.g. face mask 70%): (net sales − net cost of goods) / net
    sales, where net = paid on the day − refunded on the day (sales and their cost alike);
    commission is not a cost of goods. 0 when net sales are not positive."""
    net_sales = paid_fen - refunded_fen
    if net_sales <= 0:
        return 0
    return (net_sales - (paid_cost_fen - refunded_cost_fen)) * BP // net_sales


def bounce_rate_bp(one_page_sessions: int, sessions: int) -> int:
    """Bounce rate (DOMAIN.md §5: 50% → 25%): sessions with exactly one page view / sessions with
    any page view, of the day."""
    return ratio_bp(one_page_sessions, sessions)


def conversion_bp(paying_users: int, visitors: int) -> int:
    """Conversion of a day: distinct paying users / distinct visitors."""
    return ratio_bp(paying_users, visitors)


def change_vs_mean_bp(today_bp: int, before_bp: Sequence[int | None]) -> int:
    """Today's rate minus the mean of the rates of the days before (``None``: a day without
    visitors, left out); the mean is floored. 0 when no day before has a rate (no baseline)."""
    known = [v for v in before_bp if v is not None]
    if not known:
        return 0
    return today_bp - sum(known) // len(known)


def new_user_conversion_bp(new_users: Sequence[int], first_payments: Sequence[Sequence[int]]) -> int:
    """New-user conversion (DOMAIN.md §5: 8% → 15%) of day D: of the users registered in the 7 days
    ending with D, the share who paid by the end of D (so each within 7 days of registering).

    ``new_users[i]`` is the registrations of day D−6+i (oldest first); ``first_payments[i][k]``
    the first payments on day D−6+i by users registered k days before it (k = 0..6). A first
    payment counts when its user registered inside the window: k ≤ i."""
    if len(new_users) != NEW_USER_WINDOW_DAYS or len(first_payments) != NEW_USER_WINDOW_DAYS:
        raise ValueError(f"the window is {NEW_USER_WINDOW_DAYS} days")
    converted = sum(by_age[k] for i, by_age in enumerate(first_payments) for k in range(min(i, len(by_age) - 1) + 1))
    return ratio_bp(converted, sum(new_users))


def repurchase_rate_bp(repeat_buyers: int, paying_users: int) -> int:
    """Repurchase rate (DOMAIN.md §5): of the day's paying users, the share with at least 2 paid
    orders in the 30 days ending with the day (the day's orders included)."""
    return ratio_bp(repeat_buyers, paying_users)


def distributor_retention_bp(retained: int, active_last_month: int) -> int:
    """Distributor retention (DOMAIN.md §5: 30% → 45%): of the distributors active in the previous
    calendar month (Shanghai), the share active again this month up to the day. Active: credited
    with a commission (an order they referred was paid)."""
    return ratio_bp(retained, active_last_month)


def on_time_delivery_bp(on_time: int, delivered: int) -> int:
    """On-time delivery (DOMAIN.md §3, API.md v1.1): of the orders the carrier delivered on the
    day, the share delivered at most ``delivery.on_time_hours`` (48) after payment
    (``domain.tracking.on_time``; docs/delivery.md)."""
    return ratio_bp(on_time, delivered)


def inventory_turnover_days(stock: int, units_sold: int) -> int | None:
    """Inventory turnover days (DOMAIN.md §3: hot items within 7 days): the days the stock left
    after the day lasts at the day's sales, rounded up; None when nothing sold (no turnover)."""
    if units_sold <= 0:
        return None
    return -(-max(stock, 0) // units_sold)


def sell_through_bp(units_sold: int, stock: int) -> int:
    """Sell-through rate (动销率, DOMAIN.md §3: face mask 60%): units sold / (units sold + stock
    left), over the day."""
    return ratio_bp(units_sold, units_sold + max(stock, 0))
