"""What ``compute_metrics`` stores in the analytics table, in items of a fixed bound whatever the
catalogue (docs/metrics.md "Stored rows").

====================  ============================  ===============================================
pk                    sk                            what
====================  ============================  ===============================================
``metrics``           ``day#YYYY-MM-DD``            the day-level row: every catalogue metric of
                                                    the day but the per-product ones (JSON, ~1 KB)
``metrics``           ``win#YYYY-MM-DD``            the day's metric window (``metric_windows``;
                                                    TTL 90 d: a run reads 62 days back at most)
``mprod#YYYY-MM-DD``  ``<bucket>#<first product>``  a chunk of the day's product metrics: the
                                                    metrics of at most 100 consecutive products (by
                                                    id) of one product bucket, ``n`` when written
====================  ============================  ===============================================

A chunk holds at most ``CHUNK_PRODUCTS`` products of at most ~360 bytes each (a 64-character id,
a 60-character name), so no item passes ~37 KB: the 400 KB limit no longer depends on how many
products were active. The rows are written by the daily job only (never per request), so one
partition per day is no hot key.

Chunks are cut from the bucket's products in id order, ``CHUNK_PRODUCTS`` at a time from the
first, and a worker hands back only after a whole chunk: a run cut into any slices writes the
same chunks under the same keys as one that never stopped. A run replaces the chunks of the
products it covered: the chunks of an earlier run that start in the same range of ids are
deleted (a re-run after a product left the catalogue leaves no stale entry).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.store.analytics_item import AnalyticsItem

ROWS = "metrics"
CHUNK_PRODUCTS = 100
WINDOW_TTL = timedelta(days=90)
# A product's metrics, in the order of the API's answer; a chunk stores each product as this list.
PRODUCT_FIELDS = ("product_id", "name", "units_sold", "views", "inventory_turnover_days", "sell_through_bp")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _chunks_pk(day: date) -> str:
    return f"mprod#{day.isoformat()}"


def chunk_sk(bucket: int, first_product: str) -> str:
    return f"{bucket:02d}#{first_product}"


def best_sellers_first(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(products, key=lambda p: (-p["units_sold"], -p["views"], p["product_id"]))


class MetricRows:
    """The stored rows: mixed into ``AnalyticsStore`` (the services reach them as ``deps.analytics``)."""

    def save_row(self, day: date, row: dict[str, Any]) -> None:
        """The day-level row of ``day`` (a ``products`` list in it is not stored: see ``save_products``)."""
        AnalyticsItem(ROWS, f"day#{day.isoformat()}", data=_dumps(_day_level(row))).save()

    def save_day(self, day: date, row: dict[str, Any], windows: dict[date, dict[str, Any]], now: datetime) -> None:
        """The day-level row of ``day`` and the windows given (``metric_windows``), in one BatchWriteItem."""
        with AnalyticsItem.batch_write() as batch:
            batch.save(AnalyticsItem(ROWS, f"day#{day.isoformat()}", data=_dumps(_day_level(row))))
            for at, window in windows.items():
                batch.save(AnalyticsItem(ROWS, f"win#{at.isoformat()}", data=_dumps(window),
                                         expires_at=now + WINDOW_TTL))

    def save_products(self, day: date, bucket: int, after: str | None, last: str | None,
                      products: Sequence[dict[str, Any]], now: datetime) -> int:
        """Store the metrics of the bucket's products after ``after`` up to ``last`` (ids; None:
        from the first / to the end) as one chunk keyed by its first product, and delete the
        chunks an earlier run started inside that range. ``products`` are the range's products that
        made the row, in id order (at most ``CHUNK_PRODUCTS``; none: only the deletes). Returns the
        chunks deleted. One Query and one BatchWriteItem."""
        if len(products) > CHUNK_PRODUCTS:
            raise ValueError(f"a chunk holds at most {CHUNK_PRODUCTS} products, not {len(products)}")
        pk = _chunks_pk(day)
        low = chunk_sk(bucket, after) if after is not None else chunk_sk(bucket, "")
        high = chunk_sk(bucket, last) if last is not None else f"{bucket:02d}$"  # "$" sorts right after "#"
        old = [item.sk for item in AnalyticsItem.query(pk, AnalyticsItem.sk.between(low, high),
                                                       attributes_to_get=["pk", "sk"])
               if after is None or item.sk != low]
        new_sk = chunk_sk(bucket, products[0]["product_id"]) if products else None
        stale = [sk for sk in old if sk != new_sk]
        with AnalyticsItem.batch_write() as batch:
            if new_sk is not None:
                batch.save(AnalyticsItem(pk, new_sk, n=int(now.timestamp()),
                                         data=_dumps([[p[f] for f in PRODUCT_FIELDS] for p in products])))
            for sk in stale:
                batch.delete(AnalyticsItem(pk, sk))
        return len(stale)

    def day_products(self, day: date) -> list[dict[str, Any]]:
        """The stored product metrics of ``day``, best sellers first (one Query, paged). A product
        found in two chunks (a re-run caught between its write and its delete) is taken from the
        newer."""
        newest: dict[str, tuple[int, dict[str, Any]]] = {}
        for item in AnalyticsItem.query(_chunks_pk(day)):
            written = int(item.n or 0)
            for values in json.loads(item.data or "[]"):
                product = dict(zip(PRODUCT_FIELDS, values, strict=True))
                seen = newest.get(product["product_id"])
                if seen is None or seen[0] <= written:
                    newest[product["product_id"]] = (written, product)
        return best_sellers_first([product for _, product in newest.values()])

    def rows(self, from_day: date, to_day: date) -> list[dict[str, Any]]:
        """The stored rows of the days in [from_day, to_day], oldest first, each with its
        ``products`` (days never computed are absent)."""
        between = AnalyticsItem.sk.between(f"day#{from_day.isoformat()}", f"day#{to_day.isoformat()}")
        rows = [json.loads(item.data or "{}") for item in AnalyticsItem.query(ROWS, between)]
        return [{**row, "products": self.day_products(date.fromisoformat(row["date"]))} for row in rows]


def _day_level(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "products"}
