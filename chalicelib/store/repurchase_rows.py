"""The repurchase cycle's items in the analytics table (docs/metrics.md "Repurchase cycle"):
the gaps counted on payment, the job's summary of each day per category, and its stored figures.

========================  ======================  ==============================================
pk                        sk                      what
========================  ======================  ==============================================
``rcy#YYYY-MM-DD#<s>``    ``<category>#<gap>``    repurchases on the day in the category whose
                                                  gap from the buyer's last paid day there was
                                                  ``gap`` days (``n``, ADD only; written by the
                                                  paid fact on a random shard ``s`` of 8; TTL 30 d)
``rcyd#<category>``       ``YYYY-MM-DD``          the day's gaps in the category, summed over the
                                                  shards (``data`` ``{gap: n}``; the job, TTL
                                                  400 d: a window is at most 365 days)
``metrics``               ``rcy#categories``      the categories the job has seen (``data``)
``metrics``               ``rcy#YYYY-MM-DD``      the figures as of that day (``data``)
``metrics``               ``rcys#YYYY-MM-DD``     the day was summarised (TTL 60 d)
========================  ======================  ==============================================

Per payment: one counter per repurchased category, on one of 8 partitions of the day (4,000
repurchases a second before DynamoDB throttles a partition). The job writes one summary per
category and day, so a window of W days of a category is one Query of its own partition
(``rcyd#<category>``, at most W items, each holding the distinct gaps of a day), whatever the
number of orders; a summary is rewritten whole from the counters, so a re-run replaces it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.store.analytics_item import AnalyticsItem, batch_get
from chalicelib.store.metric_rows import ROWS

GAP_SHARDS = 8  # partitions of a day's repurchase gaps (one write per repurchase)
GAP_TTL = timedelta(days=30)  # the job summarises a day's gaps the night after (a re-run within a month)
SUMMARY_TTL = timedelta(days=400)  # the longest window (365 days) and a margin
MARKER_TTL = timedelta(days=60)
CATEGORIES = "rcy#categories"

Gaps = dict[str, dict[int, int]]  # category → gap in days → repurchases


def gap_partition(day: date, shard: int) -> str:
    return f"rcy#{day.isoformat()}#{shard}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _histogram(data: str | None) -> dict[int, int]:
    return {int(gap): int(n) for gap, n in json.loads(data or "{}").items()}


class RepurchaseRows:
    """Mixed into ``AnalyticsStore`` (the services reach it as ``deps.analytics``)."""

    def day_gaps(self, day: date) -> Gaps:
        """The repurchases of ``day`` per category and gap, the shards summed (one Query per shard)."""
        found: Gaps = {}
        for shard in range(GAP_SHARDS):
            for item in AnalyticsItem.query(gap_partition(day, shard)):
                category, gap = item.sk.rsplit("#", 1)
                histogram = found.setdefault(category, {})
                histogram[int(gap)] = histogram.get(int(gap), 0) + int(item.n or 0)
        return found

    def save_day_gaps(self, day: date, gaps: Gaps, known: Iterable[str], now: datetime) -> None:
        """The day's summary per category and the categories seen (``known`` and the day's), in
        one BatchWriteItem."""
        categories = sorted(set(known) | set(gaps))
        with AnalyticsItem.batch_write() as batch:
            for category, histogram in gaps.items():
                batch.save(AnalyticsItem(f"rcyd#{category}", day.isoformat(), data=_dumps(histogram),
                                         expires_at=now + SUMMARY_TTL))
            batch.save(AnalyticsItem(ROWS, CATEGORIES, data=_dumps(categories)))
            batch.save(AnalyticsItem(ROWS, f"rcys#{day.isoformat()}", expires_at=now + MARKER_TTL))

    def summarised_days(self, days: Iterable[date]) -> set[date]:
        """Which of ``days`` the job has summarised (one BatchGetItem)."""
        keys = [(ROWS, f"rcys#{day.isoformat()}") for day in days]
        return {date.fromisoformat(raw["sk"]["S"].split("#", 1)[1]) for raw in batch_get(keys, consistent=False)}

    def gap_categories(self) -> list[str]:
        """The categories the job has seen repurchases in (one GetItem)."""
        try:
            item = AnalyticsItem.get(ROWS, CATEGORIES)
        except AnalyticsItem.DoesNotExist:
            return []
        return list(json.loads(item.data or "[]"))

    def summarised_gaps(self, category: str, first: date, last: date) -> list[dict[int, int]]:
        """The stored summaries of ``category`` for the days in [first, last] (one Query, paged)."""
        if first > last:
            return []
        between = AnalyticsItem.sk.between(first.isoformat(), last.isoformat())
        return [_histogram(item.data) for item in AnalyticsItem.query(f"rcyd#{category}", between)]

    def save_cycles(self, day: date, figures: dict[str, Any]) -> None:
        AnalyticsItem(ROWS, f"rcy#{day.isoformat()}", data=_dumps(figures)).save()

    def stored_cycles(self, to_day: date) -> dict[str, Any] | None:
        """The latest figures stored as of a day ≤ ``to_day`` (one Query, one item), or None."""
        between = AnalyticsItem.sk.between("rcy#0000-00-00", f"rcy#{to_day.isoformat()}")
        for item in AnalyticsItem.query(ROWS, between, scan_index_forward=False, limit=1):
            return dict(json.loads(item.data or "{}"))
        return None
