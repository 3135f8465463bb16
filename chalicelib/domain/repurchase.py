"""The repurchase cycle per category (DOMAIN.md §3: face mask 1 month, health tea 3, smart home
6): how many days pass between a buyer's successive paid orders in a category, as a median over
the repurchases of a trailing window, beside the seed's cycle, so the operator aims a member day
at the category whose buyers come back later than the seed says (docs/metrics.md "Repurchase
cycle").

Pure: a payment's gap from the buyer's last paid day in the category (kept per buyer and
category on payment), and the median of a histogram of gaps (days → repurchases). No order
history is ever read: each payment adds one gap to its day's histogram, the job adds up the days
of the window.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

Histogram = Mapping[int, int]  # gap in days → repurchases with that gap


def gap_days(last_paid: date | None, day: date) -> int | None:
    """The gap a payment on ``day`` adds for a buyer whose last paid day in the category was
    ``last_paid``: the days between, or None when it adds none: the buyer's first payment in the
    category, another order the same day (one purchase occasion split into orders, which would
    pull the median to 0) or a payment dated before the last one (out of order, around midnight
    between two hosts)."""
    if last_paid is None or day <= last_paid:
        return None
    return (day - last_paid).days


def moves_last_paid(last_paid: date | None, day: date) -> bool:
    """Whether a payment on ``day`` becomes the buyer's last paid day in the category."""
    return last_paid is None or day > last_paid


def merged(histograms: Iterable[Histogram]) -> dict[int, int]:
    """The sum of histograms (the window's days added up)."""
    total: dict[int, int] = {}
    for histogram in histograms:
        for gap, n in histogram.items():
            if n:
                total[gap] = total.get(gap, 0) + n
    return total


def median_days(histogram: Histogram) -> int | None:
    """The median gap, in whole days: the middle repurchase's gap, or with an even count the mean
    of the two middle ones, floored. None without any repurchase."""
    count = sum(histogram.values())
    if count == 0:
        return None
    low_rank, high_rank = (count - 1) // 2, count // 2  # 0-based ranks of the middle one(s)
    low = high = None
    seen = 0
    for gap in sorted(histogram):
        seen += histogram[gap]
        if low is None and seen > low_rank:
            low = gap
        if seen > high_rank:
            high = gap
            break
    if low is None or high is None:  # unreachable: the ranks are below the count
        raise ValueError("a histogram's ranks fell outside it")
    return (low + high) // 2


@dataclass(frozen=True)
class CategoryCycle:
    """One category's figures over the window: the median gap, the repurchases it is the median
    of, the seed's cycle (None when the rules name none) and the lag: median − seed, positive
    when buyers come back later than the seed's cycle (where a member day helps)."""

    category: str
    median_days: int | None
    repurchases: int
    seed_days: int | None

    @property
    def lag_days(self) -> int | None:
        if self.median_days is None or self.seed_days is None:
            return None
        return self.median_days - self.seed_days


def cycles(window: Mapping[str, Histogram], seed: Mapping[str, int]) -> list[CategoryCycle]:
    """Every category with a repurchase in the window or a seed cycle: the most lagging first
    (largest lag), then those without a lag (no repurchase or no seed), by name."""
    found = [CategoryCycle(c, median_days(window.get(c, {})), sum(window.get(c, {}).values()), seed.get(c))
             for c in sorted(set(window) | set(seed))]
    return sorted(found, key=lambda c: (c.lag_days is None, -(c.lag_days or 0), c.category))
