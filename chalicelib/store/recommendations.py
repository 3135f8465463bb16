"""Recommendations in the analytics table (``AnalyticsItem``, prefix ``rec#``; docs/experiments.md).

====================  ==============  ==============================================================
pk                    sk              what
====================  ==============  ==============================================================
``rec#day``           ``YYYY-MM-DD``  a complete day's counts, summarised once from the day's baskets
                                      and product views: ``data`` JSON ``{"baskets": n, "orders":
                                      {p: n}, "views": {p: n}, "together": [[a, b, n], ...]}`` (TTL)
``rec#p#<product>``   ``list``        the product's bought-together list: ``data`` JSON
                                      ``[[product, score], ...]``, ``ref`` its category
``rec#c#<category>``  ``list``        the category's most popular products (same shape)
``rec#hot``           ``list``        the whole catalogue's most popular products
``rec#run``           ``last``        the list keys the last run wrote (``data``), ``ref`` its day
``rec#u#<user_id>``   ``viewed``      the products of the user's latest batch of product views,
                                      most recent first (``data``), ``n`` when (epoch s) (TTL)
====================  ==============  ==============================================================

Every list item holds ``ref`` (its category, for product lists) and ``score`` = the day it was
computed as ``YYYYMMDD``. A run writes its lists with BatchWriteItem and deletes the lists the
previous run wrote that it did not (a product no longer bought), so stale lists never linger.
Reads are BatchGetItem of a handful of keys; products are read from the products table in one
BatchGetItem to keep only listed ones.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.catalog import Product
from chalicelib.domain.recommendations import Scored, Window
from chalicelib.store.analytics import AnalyticsItem

Key = tuple[str, str]
DAYS = "rec#day"
RUN: Key = ("rec#run", "last")
HOT: Key = ("rec#hot", "list")
SUMMARY_TTL = timedelta(days=97)
VIEWED_TTL = timedelta(days=30)
MAX_PAIRS_PER_DAY = 5_000  # a day summary keeps its most frequent pairs (an item holds ≤ 400 KB)


def product_list_key(product_id: str) -> Key:
    return f"rec#p#{product_id}", "list"


def category_list_key(category: str) -> Key:
    return f"rec#c#{category}", "list"


def viewed_key(user_id: str) -> Key:
    return f"rec#u#{user_id}", "viewed"


@dataclass(frozen=True)
class StoredList:
    items: list[Scored]
    category: str | None
    computed_on: str  # YYYY-MM-DD


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _day_number(day: date) -> int:
    return int(day.strftime("%Y%m%d"))


def _day_text(number: Any) -> str:
    text = str(int(number))
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def summary_json(window: Window) -> str:
    pairs = sorted(window.together.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PAIRS_PER_DAY]
    return _dumps({"baskets": window.baskets, "orders": dict(window.orders), "views": dict(window.views),
                   "together": [[a, b, n] for (a, b), n in pairs]})


def window_of(data: str) -> Window:
    raw = json.loads(data or "{}")
    window = Window(baskets=int(raw.get("baskets", 0)))
    window.orders.update({p: int(n) for p, n in raw.get("orders", {}).items()})
    window.views.update({p: int(n) for p, n in raw.get("views", {}).items()})
    window.together.update({(a, b): int(n) for a, b, n in raw.get("together", [])})
    return window


class RecommendationStore:
    def day_summaries(self, days: Sequence[date]) -> dict[date, Window]:
        """The summaries stored for these days (days not summarised yet are absent)."""
        keys = [(DAYS, day.isoformat()) for day in days]
        return {date.fromisoformat(item.sk): window_of(item.data or "") for item in _get(keys)}

    def save_day_summary(self, day: date, window: Window, now: datetime) -> None:
        """Store a complete day's counts; it expires when no window (≤ 90 days) can need it."""
        AnalyticsItem(DAYS, day.isoformat(), data=summary_json(window), expires_at=now + SUMMARY_TTL).save()

    def save_lists(self, lists: dict[Key, tuple[list[Scored], str | None]], day: date) -> int:
        """Write this run's lists, then delete the previous run's lists not written now; returns
        how many were deleted."""
        previous = {(pk, sk) for item in _get([RUN]) for pk, sk in json.loads(item.data or "[]")}
        with AnalyticsItem.batch_write() as batch:
            for (pk, sk), (items, category) in lists.items():
                batch.save(AnalyticsItem(pk, sk, data=_dumps([[s.product_id, s.score] for s in items]), ref=category,
                                         score=_day_number(day)))
            stale = previous - set(lists)
            for pk, sk in stale:
                batch.delete(AnalyticsItem(pk, sk))
        AnalyticsItem(*RUN, data=_dumps(sorted(lists)), ref=day.isoformat()).save()
        return len(stale)

    def lists(self, keys: Sequence[Key]) -> dict[Key, StoredList]:
        """The stored lists of these keys (absent ones left out), one BatchGetItem."""
        return {(item.pk, item.sk): StoredList([Scored(p, int(score)) for p, score in json.loads(item.data or "[]")],
                                               item.ref, _day_text(item.score or 0))
                for item in _get(keys)}

    def remember_views(self, user_id: str, product_ids: list[str], at: datetime) -> None:
        """The user's latest viewed products (one PutItem, no read: the latest batch wins)."""
        AnalyticsItem(*viewed_key(user_id), data=_dumps(product_ids), n=int(at.timestamp()),
                      expires_at=at + VIEWED_TTL).save()

    def viewed(self, user_id: str) -> tuple[list[str], datetime | None]:
        """The user's latest viewed products, most recent first, and when."""
        for item in _get([viewed_key(user_id)]):
            return list(json.loads(item.data or "[]")), datetime.fromtimestamp(int(item.n or 0), UTC)
        return [], None

    def products(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """The products of these ids that exist, listed or not (one BatchGetItem per 100)."""
        from chalicelib.store.products import ProductItem, is_product, to_product

        ids = [p for p in dict.fromkeys(product_ids) if is_product(p)]
        return {item.product_id: to_product(item) for item in ProductItem.batch_get(ids)} if ids else {}


def _get(keys: Sequence[Key]) -> list[AnalyticsItem]:
    unique = list(dict.fromkeys(keys))
    return list(AnalyticsItem.batch_get(unique)) if unique else []

