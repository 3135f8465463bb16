"""The windows the daily metrics look back over, carried from one day to the next.

Three metrics need more than their own day: the conversion baseline (each of the 7 days
before), new-user conversion (the 7 days ending with the day) and distributor retention (this
month so far, and all of last month). Instead of reading those days' counters again every day,
the daily job keeps a ``Window`` per day: the last 7 days' figures, and the month's running sums.
``advance(window of day − 1, day, counters of day)`` gives the window of the day, so the job reads
one stored window and the counters of the days since: what it reads does not grow with history.
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib.domain.clock import previous_month
from chalicelib.domain.metrics import NEW_USER_WINDOW_DAYS

DAYS = NEW_USER_WINDOW_DAYS  # 7: the conversion baseline and the new-user window alike
LONGEST_LOOKBACK_DAYS = 62  # what any window can see: this month and all of the previous one
Seven = tuple[int, ...]


ZEROS: Seven = (0,) * DAYS


@dataclass(frozen=True)
class Window:
    """The figures of the 7 days ending with ``day`` (oldest first) and the month sums up to it."""

    day: date
    paying_users: Seven = ZEROS
    visitors: Seven = ZEROS
    new_users: Seven = ZEROS
    first_payments: tuple[Seven, ...] = (ZEROS,) * DAYS  # [i][k]: nucK of day − 6 + i
    month_first: int = 0  # distributors whose first activity of ``day``'s month came by ``day``
    month_retained: int = 0  # ... of those, active the month before
    last_month_first: int = 0  # distributors active at all in the month before ``day``'s

    @property
    def month(self) -> str:
        return self.day.strftime("%Y-%m")

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "paying_users": list(self.paying_users), "visitors": list(self.visitors),
                "new_users": list(self.new_users), "first_payments": [list(r) for r in self.first_payments],
                "month_first": self.month_first, "month_retained": self.month_retained,
                "last_month_first": self.last_month_first}

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Window:
        return cls(date.fromisoformat(data["day"]), tuple(data["paying_users"]), tuple(data["visitors"]),
                   tuple(data["new_users"]), tuple(tuple(r) for r in data["first_payments"]),
                   int(data["month_first"]), int(data["month_retained"]), int(data["last_month_first"]))


def empty(day: date) -> Window:
    """The window of a day before which nothing happened."""
    return Window(day)


def advance(before: Window, day: date, counts: Mapping[str, int]) -> Window:
    """The window of ``day`` from the window of the day before and ``day``'s counters."""
    if before.day != day - timedelta(days=1):
        raise ValueError(f"the window of {day - timedelta(days=1)} is needed, not of {before.day}")
    month = day.strftime("%Y-%m")
    if month == before.month:
        sums = (before.month_first, before.month_retained, before.last_month_first)
    else:  # a new month: last month's total is the month that just ended
        sums = (0, 0, before.month_first if previous_month(month) == before.month else 0)
    return Window(
        day,
        (*before.paying_users[1:], counts["paying_users"]),
        (*before.visitors[1:], counts["visitors"]),
        (*before.new_users[1:], counts["new_users"]),
        (*before.first_payments[1:], tuple(counts[f"nuc{k}"] for k in range(DAYS))),
        sums[0] + counts["dist_month_first"],
        sums[1] + counts["dist_retained"],
        sums[2],
    )


def fold(start: Window, counts_by_day: Mapping[date, Mapping[str, int]], until: date) -> Window:
    """Advance ``start`` day by day up to ``until`` (days without counters count as nothing)."""
    window = start
    while window.day < until:
        day = window.day + timedelta(days=1)
        window = advance(window, day, counts_by_day.get(day) or _NOTHING)
    return window


_NOTHING: Mapping[str, int] = {name: 0 for name in (
    "paying_users", "visitors", "new_users", "dist_month_first", "dist_retained", *(f"nuc{k}" for k in range(DAYS)))}
