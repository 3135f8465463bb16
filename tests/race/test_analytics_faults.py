"""A fault at every DynamoDB call of a part of the analytics jobs, on DynamoDB Local (the harness
of tests/faults.py): a product bucket of ``compute_metrics`` and a bucket's list step of
``compute_recommendations``. The recovery is what the queue does: the slice's message delivered
again (the part from the same cursor), then the run's ``finish``. The recovered tables must equal
a fault-free run's; for the recommendations, every table but the job's own scratch items (each
attempt writes its steps' output under a nonce of its own: a crashed attempt's set is left to its
TTL and never read), so its lists, the stale list deleted and the run's record."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.jobs import run_job
from chalicelib.services import metrics, recommendation_job
from chalicelib.store import metric_rows
from chalicelib.store.analytics import PRODUCT_BUCKETS, Tally, Write, basket_item, product_bucket
from chalicelib.store.products import ProductItem
from tests.faults import Case, restore, run_with_faults

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)  # 01:00 on 2026-11-11 in Shanghai
DAY = date(2026, 11, 10)
SCRATCH = ("rec#sum#", "rec#day#", "rec#win#", "rec#run#", "rec#lk#", "rec#top#")


class Never:
    def expired(self) -> bool:
        return False


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    rules = Rules.model_validate({"recommendations": {"window_days": 2, "stored": 5}})
    plain = Deps(clock=lambda: NOW)
    return Deps(settings=plain.settings.model_copy(update={"rules": rules}), clock=lambda: NOW)


def in_bucket(bucket: int, n: int, prefix: str) -> list[str]:
    ids = (f"{prefix}{i:03d}" for i in range(10_000))
    return [p for p in ids if product_bucket(p) == bucket][:n]


def add_products(deps: Deps, ids: list[str], category: str = "beauty") -> None:
    for product_id in ids:
        deps.products.put_if_absent(Product(product_id, "面膜", category, 1_500, 5_000, 40, 2_000, 500), NOW)


def test_a_fault_at_any_call_of_a_product_bucket_then_the_slice_again_stores_its_chunks_once(deps, faults,
                                                                                          monkeypatch):
    monkeypatch.setattr(metric_rows, "CHUNK_PRODUCTS", 3)
    ids = in_bucket(0, 9, "m")
    part = f"{DAY.isoformat()}#p0"

    def setup(d: Deps) -> None:
        add_products(d, ids[:8])  # the 9th is an id no product has
        tally = Tally()
        for n, product_id in enumerate(ids):
            tally.add_product(DAY, product_id, "views", 1 + n)
            tally.add_product(DAY, product_id, "units", n % 3)
        assert d.analytics.write(Write(tally=tally)) is None
        metrics.metrics_part(part, None, NOW, d, Never())  # an earlier run's chunks ...
        ProductItem(ids[0]).delete()  # ... then a product left the catalogue: the run replaces them

    def slice_of_the_part(d: Deps, _: Any) -> str:
        progress = metrics.metrics_part(part, None, NOW, d, Never())
        return f"products={progress.counts['products']}"

    calls, endings = run_with_faults(Case(setup, slice_of_the_part, slice_of_the_part), deps, faults)
    assert {"BatchGetItem", "BatchWriteItem", "Query"} <= set(calls)
    assert "answered" not in endings and endings["crashed"] > 0  # every fault fails the slice: delivered again
    products = deps.analytics.day_products(DAY)
    assert sorted(p["product_id"] for p in products) == ids[1:8]


def basket(deps: Deps, day: date, order_id: str, *products: str) -> None:
    tally = Tally()
    tally.add(day, "orders")
    item = basket_item(day, order_id, "someone", [(p, 1) for p in products], NOW)
    assert deps.analytics.write(Write(tally=tally, puts=(item,))) is None


def test_a_fault_at_any_call_of_a_buckets_list_step_then_the_slice_again_and_finish_leave_one_set_of_lists(
        deps, faults):
    """Bucket 0's step 3 (its part's last: every other part has taken the summarising and window
    steps): its lists, the previous run's list of a product out of the window deleted, its keys and
    popular products for ``finish``."""
    gone, kept, other = in_bucket(0, 1, "g")[0], in_bucket(0, 2, "k"), in_bucket(1, 2, "o")
    part = f"{business_date(NOW).isoformat()}#r0"

    def setup(d: Deps) -> None:
        add_products(d, [gone, *kept, *other])
        basket(d, DAY - timedelta(days=2), "o1", gone, other[0])  # only in the previous run's window
        basket(d, DAY - timedelta(days=1), "o2", kept[0], other[0])
        basket(d, DAY, "o3", kept[0], kept[1], other[1])
        basket(d, DAY, "o4", kept[1], other[1])
        run_job("compute_recommendations", NOW - timedelta(days=1), d)  # the previous run: gone has a list
        for bucket in range(1, PRODUCT_BUCKETS):
            cursor = None
            while True:
                cursor = recommendation_job.recommendation_part(part.replace("#r0", f"#r{bucket}"), cursor, NOW, d,
                                                                Never()).cursor
                if cursor is None:
                    break

    def step(d: Deps, _: Any) -> str:
        return str(recommendation_job.recommendation_part(part, None, NOW, d, Never()).counts.get("lists_removed"))

    def step_then_finish(d: Deps, _: Any) -> None:
        step(d, None)
        recommendation_job.recommendation_finish(NOW, d, {})

    calls, endings = run_with_faults(Case(setup, step, step_then_finish), deps, faults,
                                     ignore_items=lambda table, pk: pk.startswith(SCRATCH))
    assert calls.count("BatchWriteItem") >= 3, calls  # the lists, the stale list's delete, the keys and popular products
    assert "answered" not in endings  # every fault fails the slice (its message is delivered again)
    assert deps.recommendations.lists([("rec#p#" + gone, "list")]) == {}
    mine = deps.recommendations.lists([("rec#p#" + kept[0], "list")])
    # kept[0]: 2 orders in the window; with other[0] (1 order) 1/√2 → 7071, kept[1] and other[1] (2 each) 1/2
    assert [(s.product_id, s.score) for s in mine[("rec#p#" + kept[0], "list")].items] == [
        (other[0], 7071), (kept[1], 5000), (other[1], 5000)]
