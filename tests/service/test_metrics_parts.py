"""compute_metrics as a plan of parts on moto: a day's product metrics stored in chunks of a fixed
number of products (no item grows with the catalogue), every product once and best sellers first,
a run cut into one-page slices leaves what a whole run leaves, and a re-run replaces the chunks.
The chunk is made small here (3 products) so that small catalogues fill many chunks."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bench.item_size import analytics_items, largest
from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import SHANGHAI
from chalicelib.jobs import run_job
from chalicelib.store import metric_rows
from chalicelib.store.analytics import PRODUCT_BUCKETS, Tally, Write, product_bucket
from chalicelib.store.products import ProductItem

DAY = date(2026, 11, 9)
CHUNK = 3


def run_at(day: date) -> datetime:
    """01:00 in Shanghai the day after ``day``: the schedule's run for ``day``."""
    return datetime.combine(day + timedelta(days=1), time(1), tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_rows, "CHUNK_PRODUCTS", CHUNK)


def catalogue(deps: Deps, n: int) -> list[str]:
    ids = [f"p{i:05d}" for i in range(n)]
    for product_id in ids:
        deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    return ids


def activity(deps: Deps, day: date, ids: list[str]) -> None:
    """Each product viewed 7 times and sold 3 units on ``day`` (and the day's counters with it)."""
    for start in range(0, len(ids), 40):
        tally = Tally()
        for product_id in ids[start:start + 40]:
            tally.add_product(day, product_id, "views", 7)
            tally.add_product(day, product_id, "units", 3)
            tally.add(day, "product_views", 7)
        assert deps.analytics.write(Write(tally=tally)) is None


def chunks(day: date) -> list[dict[str, Any]]:
    return [i for i in analytics_items() if i["pk"]["S"] == f"mprod#{day.isoformat()}"]


def products_in(chunk: dict[str, Any]) -> list[Any]:
    return json.loads(chunk["data"]["S"])


def stored_rows() -> list[str]:
    return sorted(str(i) for i in analytics_items() if i["pk"]["S"].startswith(("mprod#", "metrics")))


def test_every_product_is_in_one_chunk_of_at_most_the_chunk_size_and_served_best_sellers_first(deps, clock):
    ids = catalogue(deps, 40)
    activity(deps, DAY, ids)
    activity(deps, DAY, ids[:5])  # five best sellers: twice the units
    summary = run_job("compute_metrics", run_at(DAY), deps)
    # parts: the day, each product bucket, the repurchase cycle
    assert (summary["date"], summary["products"], summary["parts"]) == (DAY.isoformat(), 40, 2 + PRODUCT_BUCKETS)
    [row] = deps.analytics.rows(DAY, DAY)
    assert [p["product_id"] for p in row["products"]] == ids  # 6 units each first, then by id
    assert row["products"][0] == {"product_id": "p00000", "name": "面膜", "units_sold": 6, "views": 14,
                                  "inventory_turnover_days": 9, "sell_through_bp": 1071}
    stored = chunks(DAY)
    sizes = [len(products_in(i)) for i in stored]
    assert sum(sizes) == 40 and max(sizes) == CHUNK
    # a bucket's products are cut in id order, CHUNK at a time from the first
    per_bucket = [sorted(p for p in ids if product_bucket(p) == b) for b in range(PRODUCT_BUCKETS)]
    expected = {f"{b:02d}#{products[i]}" for b, products in enumerate(per_bucket) for i in range(0, len(products), CHUNK)}
    assert {i["sk"]["S"] for i in stored} == expected


def test_the_largest_item_is_the_same_for_40_and_for_160_active_products(deps, clock):
    ids = catalogue(deps, 160)
    small_day, big_day = DAY - timedelta(days=1), DAY
    activity(deps, small_day, ids[:40])
    activity(deps, big_day, ids)
    run_job("compute_metrics", run_at(small_day), deps)
    run_job("compute_metrics", run_at(big_day), deps)
    small, big = chunks(small_day), chunks(big_day)
    assert len(big) > 3 * len(small) - PRODUCT_BUCKETS  # more chunks ...
    assert largest(small)[0] == largest(big)[0]  # ... none larger
    day_rows = [i for i in analytics_items() if i["pk"]["S"] == "metrics"]
    assert largest(analytics_items())[0] < 2_000  # the day-level rows and windows stay small too
    assert len(day_rows) >= 2


def test_one_page_slices_leave_what_a_whole_run_leaves(deps, clock):
    ids = catalogue(deps, 40)
    activity(deps, DAY, ids)
    whole = run_job("compute_metrics", run_at(DAY), deps)
    expected = stored_rows()
    for item in chunks(DAY):
        metric_rows.AnalyticsItem(item["pk"]["S"], item["sk"]["S"]).delete()
    sliced = run_job("compute_metrics", run_at(DAY), deps, slice_budget=0)
    assert stored_rows() == expected
    assert sliced["slices"] > whole["slices"] == 2 + PRODUCT_BUCKETS
    assert sliced["products"] == whole["products"] == 40


def test_a_rerun_replaces_the_chunks_of_products_gone_or_new(deps, clock):
    ids = catalogue(deps, 30)
    activity(deps, DAY, ids[:20])
    run_job("compute_metrics", run_at(DAY), deps)
    for product_id in ids[:6]:  # deleted from the catalogue: no longer in the row
        ProductItem(product_id).delete()
    activity(deps, DAY, ids[20:])  # late events: ten more products
    run_job("compute_metrics", run_at(DAY), deps)
    [row] = deps.analytics.rows(DAY, DAY)
    assert sorted(p["product_id"] for p in row["products"]) == ids[6:]
    assert sum(len(products_in(i)) for i in chunks(DAY)) == 24  # no stale chunk left behind
