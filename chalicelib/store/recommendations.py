"""Recommendations in the analytics table (``AnalyticsItem``, prefix ``rec#``; docs/experiments.md).

====================  ==============  ==============================================================
pk                    sk              what
====================  ==============  ==============================================================
``rec#p#<product>``   ``list``        the product's bought-together list: ``data`` JSON
                                      ``[[product, score], ...]`` (at most ``stored``), ``ref`` its
                                      category
``rec#c#<category>``  ``list``        the category's most popular products (same shape)
``rec#hot``           ``list``        the whole catalogue's most popular products
``rec#u#<user_id>``   ``viewed``      the products of the user's latest batch of product views,
                                      most recent first (``data``), ``n`` when (epoch s) (TTL)
``rec#sum#…`` …       …               the daily job's steps: store/recommendation_runs.py
====================  ==============  ==============================================================

Every list item holds ``ref`` (its category, for product lists) and ``score`` = the day it was
computed as ``YYYYMMDD``; a list holds at most ``stored`` (≤ 100) products. A run writes its
lists with BatchWriteItem and deletes the lists the previous run wrote that it did not (a product
no longer bought), so stale lists never linger. Reads are BatchGetItem of a handful of keys;
products are read from the products table in one BatchGetItem to keep only listed ones.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.catalog import Product
from chalicelib.domain.recommendations import Scored
from chalicelib.store.analytics_item import AnalyticsItem
from chalicelib.store.recommendation_runs import RecommendationRuns

Key = tuple[str, str]
HOT: Key = ("rec#hot", "list")
VIEWED_TTL = timedelta(days=30)


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


class RecommendationStore(RecommendationRuns):
    def put_lists(self, lists: dict[Key, tuple[list[Scored], str | None]], day: date) -> None:
        """Write these lists as computed on ``day`` (BatchWriteItem, 25 a call)."""
        with AnalyticsItem.batch_write() as batch:
            for (pk, sk), (items, category) in lists.items():
                batch.save(AnalyticsItem(pk, sk, data=_dumps([[s.product_id, s.score] for s in items]), ref=category,
                                         score=_day_number(day)))

    def delete_lists(self, keys: Sequence[Key]) -> None:
        with AnalyticsItem.batch_write() as batch:
            for pk, sk in keys:
                batch.delete(AnalyticsItem(pk, sk))

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

