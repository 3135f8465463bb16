"""The repurchase cycle per category (docs/metrics.md "Repurchase cycle"): the metrics job's part
``<day>#rcy`` summarises the day's gaps (counted on payment, services/facts.py) per category and
stores the figures of the window ending with the day; the admin metrics and the data board read
them. Nothing reads the order history: a window is one Query per category of the job's own
summaries.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_date
from chalicelib.domain.repurchase import CategoryCycle, Histogram, cycles, merged
from chalicelib.domain.slices import Progress

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

PART = "rcy"
LIVE_DAYS = 2  # today and yesterday: their gaps are read from the counters until the job summarised them
CATCH_UP_DAYS = 7  # a run also summarises the days before it whose night was missed


def window_figures(day: date, deps: Deps, raw_days: tuple[date, ...] = ()) -> dict[str, Any]:
    """The figures of the window of ``repurchase.window_days`` days ending with ``day``: the
    summaries the job stored, and for ``raw_days`` the counters themselves (days not summarised
    yet). One Query per category (plus 8 per raw day)."""
    rules = deps.rules.repurchase
    first = day - timedelta(days=rules.window_days - 1)
    raw = {d: deps.analytics.day_gaps(d) for d in raw_days if first <= d <= day}
    categories = set(deps.analytics.gap_categories()) | set(rules.seed_cycle_days)
    for gaps in raw.values():
        categories |= set(gaps)
    window: dict[str, Histogram] = {}
    for category in sorted(categories):
        stored = _summarised(category, first, day, set(raw), deps)
        window[category] = merged([*stored, *(gaps.get(category, {}) for gaps in raw.values())])
    return answer(day, rules.window_days, cycles(window, rules.seed_cycle_days))


def _summarised(category: str, first: date, last: date, skip: set[date], deps: Deps) -> list[dict[int, int]]:
    """The stored summaries of the window's days, those read raw aside (they are the ends of
    the window, so the range shrinks rather than skips)."""
    while last in skip and last >= first:
        last -= timedelta(days=1)
    return deps.analytics.summarised_gaps(category, first, last)


def answer(day: date, window_days: int, found: list[CategoryCycle]) -> dict[str, Any]:
    """The shape of ``repurchase_cycles`` in ``GET /v1/admin/metrics`` (and of the stored figures)."""
    return {"as_of": day.isoformat(), "window_days": window_days,
            "categories": [{**asdict(c), "lag_days": c.lag_days} for c in found]}


def repurchase_part(day: date, deps: Deps) -> Progress:
    """The job's part: the day's gaps summarised per category (and those of the 6 days before
    that no run summarised: a missed night), then the window's figures stored. A re-run
    rewrites both from the counters (which only grow; they are kept 30 days)."""
    before = [day - timedelta(days=i) for i in range(CATCH_UP_DAYS - 1, 0, -1)]
    done = deps.analytics.summarised_days(before)
    missed = [d for d in before if d not in done]
    known = set(deps.analytics.gap_categories())
    for summarised in [*missed, day]:
        gaps = deps.analytics.day_gaps(summarised)
        known |= set(gaps)
        deps.analytics.save_day_gaps(summarised, gaps, known, deps.clock())
    figures = window_figures(day, deps)
    deps.analytics.save_cycles(day, figures)
    return Progress(counts={"repurchase_days_summarised": len(missed) + 1,
                            "repurchase_categories": len(figures["categories"])})


def cycles_as_of(to_day: date, deps: Deps) -> dict[str, Any] | None:
    """The figures for a metrics answer ending ``to_day``: the job's of ``to_day`` or the day
    before; else, when ``to_day`` is today or yesterday, computed now (today's and yesterday's
    gaps from their counters); else the latest stored before ``to_day`` (its ``as_of`` says
    which day), or None when the job never stored any."""
    stored = deps.analytics.stored_cycles(to_day)
    if stored is not None and date.fromisoformat(stored["as_of"]) >= to_day - timedelta(days=1):
        return stored
    today = business_date(deps.clock())
    if to_day >= today - timedelta(days=LIVE_DAYS - 1):
        day = min(to_day, today)
        return window_figures(day, deps, tuple(day - timedelta(days=i) for i in range(LIVE_DAYS)))
    return stored
