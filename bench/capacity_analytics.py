"""Capacity of the analytics jobs (issue 14) on DynamoDB Local: ``compute_metrics`` over 1k/5k/20k
products active in a day and ``compute_recommendations`` over 5k/20k/50k products bought or
viewed, each run whole through the engine (every part, every slice, the engine's bookkeeping),
and an extrapolation to 1,000,000 products.

Measured exactly: the DynamoDB calls (round trips, per product), parts and slices, the capacity
units DynamoDB Local reports, the largest item of the analytics table after the run (sized by
DynamoDB's rules, ``bench/item_size.py``), this process's CPU time per slice and, for the
recommendations, per step (``v``/``b`` summarising a day, ``w`` a bucket's window, ``c`` a
bucket's lists; the lists' computation ``_lists`` runs again in every slice of ``c``). Derived:
the seconds of each worker invocation on Lambda at 512 MB, as its CPU time stretched by the share
of a vCPU 512 MB gets, plus each call at an in-region DynamoDB latency (``LATENCY_MS``; DynamoDB
Local's latencies are a Java process's on this machine). Prices: ``PRICES`` (us-east-1, USD).

Seeding is direct (BatchWriteItem): the products, their counters of the day (one write shard
each), for the recommendations the baskets (half as many orders as products, 1–3 products each)
and the day's counters the facts write with them. The recommendations' window has one active day
(yesterday); the extrapolation also gives the window step over 30 active days.
"""
from __future__ import annotations

import math
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.capacity import PRICES, WORKER_SECONDS, WORKER_TIMEOUT, database, fresh_tables, run_cost

METRICS_SIZES = (1_000, 5_000, 20_000)
RECOMMENDATION_SIZES = (5_000, 20_000, 50_000)
EXTRAPOLATE_TO = 1_000_000
NOW = datetime(2031, 5, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2031-05-02 in Shanghai: the metrics of 05-01
DAY = date(2031, 5, 1)
CATEGORIES = 40
WINDOW_DAYS = 30

LAMBDA_MB, ONE_VCPU_MB = 512, 1_769  # Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU
LATENCY_MS = {"GetItem": 6.0, "PutItem": 8.0, "UpdateItem": 8.0, "DeleteItem": 8.0, "Query": 10.0,
              "BatchGetItem": 12.0, "BatchWriteItem": 15.0, "TransactWriteItems": 40.0}


def run(sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """One row per job and size (defaults: ``METRICS_SIZES``, ``RECOMMENDATION_SIZES``), then one
    extrapolated row per job."""
    rows: list[dict[str, Any]] = []
    with database():
        for n in sizes or METRICS_SIZES:
            with fresh_tables():
                rows.append(_metrics(n))
        for n in sizes or RECOMMENDATION_SIZES:
            with fresh_tables():
                rows.append(_recommendations(n))
    for job in ("compute_metrics", "compute_recommendations"):
        measured = [r for r in rows if r["job"] == job]
        if measured:
            rows.append(extrapolate(measured[-1], EXTRAPOLATE_TO))
    return rows


# The two jobs ----------------------------------------------------------------------------------
def _metrics(n: int) -> dict[str, Any]:
    from chalicelib.bootstrap import Deps

    seed_metrics(n)
    row = _measure("compute_metrics", NOW, Deps(clock=lambda: NOW), n, "mprod#")
    if row["summary"].get("products") != n:
        raise RuntimeError(f"compute_metrics stored {row['summary'].get('products')} products of {n}")
    return row


def _recommendations(n: int) -> dict[str, Any]:
    from chalicelib.bootstrap import Deps
    from chalicelib.services import recommendation_job

    seed_recommendations(n)
    calls = _Calls()
    steps: dict[str, list[float]] = defaultdict(list)
    timed = {kind: _timed(step, kind, steps, calls) for kind, step in recommendation_job.STEPS.items()}
    original_steps, original_lists = recommendation_job.STEPS, recommendation_job._lists
    recommendation_job.STEPS = timed
    recommendation_job._lists = _timed(original_lists, "lists", steps, calls)  # type: ignore[assignment]
    try:
        row = _measure("compute_recommendations", NOW, Deps(clock=lambda: NOW), n, "rec#", calls)
    finally:
        recommendation_job.STEPS, recommendation_job._lists = original_steps, original_lists  # type: ignore[assignment]
    summary = row["summary"]
    if (summary.get("products"), summary.get("orders")) != (n, n // 2):
        raise RuntimeError(f"compute_recommendations saw {summary}")
    row["step_lambda_seconds_max"] = {kind: round(max(s), 3) for kind, s in sorted(steps.items())}
    row["steps"] = {kind: len(s) for kind, s in sorted(steps.items())}
    return row


def _timed(step: Callable[..., Any], kind: str, into: dict[str, list[float]], calls: _Calls) -> Callable[..., Any]:
    """``step`` measured: the Lambda seconds it would take (``derived_seconds``), kept per kind."""

    def measured(*args: Any) -> Any:
        before, cpu = calls.peek(), time.process_time()
        try:
            return step(*args)
        finally:
            into[kind].append(derived_seconds(calls.since(before), time.process_time() - cpu))

    return measured


class _Calls:
    """The DynamoDB calls made so far (a DynamoMeter that is never reset while a job runs)."""

    def __init__(self) -> None:
        from bench.meter import DynamoMeter
        from chalicelib.store.tables import all_models

        self.meter = DynamoMeter()
        self.meter.attach_models(all_models())

    def peek(self) -> dict[str, int]:
        return dict(self.meter._current.calls)

    def since(self, before: dict[str, int]) -> dict[str, int]:
        return {name: n - before.get(name, 0) for name, n in self.meter._current.calls.items()}


def _measure(job: str, now: datetime, deps: Any, n: int, prefix: str, calls: _Calls | None = None) -> dict[str, Any]:
    """Run ``job`` through the engine as ``run_job`` does, one slice at a time, timing each."""
    from bench.item_size import analytics_items, largest
    from chalicelib.jobs import JOBS
    from chalicelib.jobs.engine import Deadline, LocalQueue, start, summary, work_slice

    calls = calls or _Calls()
    queue, slice_seconds = LocalQueue(), []
    started, cpu = time.perf_counter(), time.process_time()
    run_id = start(JOBS[job], now, deps, queue)
    while (piece := queue.take()) is not None:
        before, slice_cpu = calls.peek(), time.process_time()
        work_slice(JOBS[job], piece, deps, Deadline.after(WORKER_SECONDS), queue)
        slice_seconds.append(derived_seconds(calls.since(before), time.process_time() - slice_cpu))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    result = summary(deps.jobs, run_id)
    snap = calls.meter.take()
    worker = derived_seconds(dict(snap.calls), cpu_seconds)
    biggest, where = largest(analytics_items(), prefix)
    return {"job": job, "size": n, "parts": result["parts"], "slices": result["slices"],
            "round_trips": snap.round_trips, "round_trips_per_item": snap.round_trips / n,
            "seconds": seconds, "largest_item_bytes": biggest, "largest_item": where,
            "largest_item_bytes_any": largest(analytics_items())[0],
            "calls": dict(snap.calls), "items": dict(snap.items), "wcu": billed_write_units(snap),
            "rcu": snap.rcu, "cpu_seconds": cpu_seconds,
            "lambda_seconds_derived": worker, "lambda_seconds_per_item": worker / n,
            "longest_slice_lambda_seconds": max(slice_seconds),
            "summary": {k: v for k, v in result.items() if isinstance(v, int | float)}}


def derived_seconds(calls: dict[str, int], cpu_seconds: float) -> float:
    """Lambda seconds at 512 MB for work that made ``calls`` and took ``cpu_seconds`` of a core here."""
    waiting = sum(LATENCY_MS.get(name, 10.0) * count for name, count in calls.items()) / 1000
    return waiting + cpu_seconds * ONE_VCPU_MB / LAMBDA_MB


def billed_write_units(snap: Any) -> float:
    """Write request units AWS would bill (our items are under 1 KB but the chunks: ~32 KB of
    JSON, billed a unit per KB; the meter's DynamoDB Local figure is used for BatchWriteItem,
    which carries them), 2 per transactional item, 1 per other write."""
    transactional = snap.items.get("TransactWriteItems", 0)
    single = sum(snap.calls.get(name, 0) for name in ("PutItem", "UpdateItem", "DeleteItem"))
    return 2 * transactional + single + max(snap.wcu - 2 * transactional - single, snap.items.get("BatchWriteItem", 0))


def extrapolate(row: dict[str, Any], items: int) -> dict[str, Any]:
    """``row``'s figures per product at ``items``: the same parts (9 and 8), each working through
    its share in slices of at most ``WORKER_SECONDS``. The steps a slice cannot cut (the
    recommendations' window of a bucket, and the lists' computation every slice of ``c`` starts
    with) grow with the products of a bucket: scaled from the largest measured size."""
    scale = items / row["size"]
    per_item = row["lambda_seconds_per_item"]
    parts = row["parts"]
    part_seconds = per_item * items / (parts - 1 if row["job"] == "compute_metrics" else parts)
    slices_per_part = max(1, math.ceil(part_seconds / WORKER_SECONDS))
    slices = parts * slices_per_part
    wcu, rcu = row["wcu"] * scale, row["rcu"] * scale
    lambda_seconds = per_item * items
    atomic = {kind: round(s * scale, 1) for kind, s in row.get("step_lambda_seconds_max", {}).items()
              if kind in ("w", "lists")}
    if "w" in atomic:
        atomic["w_30_active_days"] = round(atomic["w"] * WINDOW_DAYS, 1)
    cost = run_cost(wcu, rcu, lambda_seconds, slices)
    invocation = max(min(part_seconds, WORKER_SECONDS), *atomic.values(), 0.0) + 1.0  # + record and hand back
    return {"job": row["job"], "size": items, "extrapolated": True, "extrapolated_from": row["size"],
            "parts": parts, "slices": slices,
            "round_trips": round(row["round_trips_per_item"] * items), "round_trips_per_item": row["round_trips_per_item"],
            "seconds": None, "largest_item_bytes": row["largest_item_bytes"],
            "part_lambda_seconds": part_seconds, "atomic_step_lambda_seconds": atomic,
            "worker_invocation_seconds": invocation, "worker_timeout_seconds": WORKER_TIMEOUT,
            "lambda_seconds": lambda_seconds, "wcu": wcu, "rcu": rcu,
            "cost_usd": cost,
            "prices_usd": PRICES}


# Seeding ----------------------------------------------------------------------------------------
def _write_all(items: list[Any]) -> None:
    from chalicelib.store.analytics import AnalyticsItem
    from chalicelib.store.products import ProductItem

    for model in (ProductItem, AnalyticsItem):
        mine = [i for i in items if isinstance(i, model)]
        with model.batch_write() as batch:
            for item in mine:
                batch.save(item)


def _products(ids: list[str], rnd: random.Random) -> list[Any]:
    from chalicelib.store.products import ProductItem

    categories = [f"c{rnd.randrange(CATEGORIES):02d}" for _ in ids]
    return [ProductItem(p, name=f"商品 {p}", category=c, cost_fen=1_000, price_fen=5_000, stock=rnd.randint(0, 500),
                        level1_rate_bp=1_000, level2_rate_bp=500, created_at=NOW, catalog="all", shelf=c)
            for p, c in zip(ids, categories, strict=True)]


def product_ids(n: int) -> list[str]:
    return [f"p{uuid.UUID(int=random.Random(i).getrandbits(128)).hex[:12]}" for i in range(n)]


def seed_metrics(n: int) -> None:
    """``n`` products, each viewed and sold on ``DAY`` (one counter item on a random write shard),
    and the day's counters."""
    from chalicelib.store.analytics import PRODUCT_SHARDS, AnalyticsItem, day_key, product_key

    rnd = random.Random(n)
    ids = product_ids(n)
    items = _products(ids, rnd)
    items += [AnalyticsItem(*product_key(DAY, p, rnd.randrange(PRODUCT_SHARDS)), views=rnd.randint(1, 99),
                            units=rnd.randint(0, 20)) for p in ids]
    items.append(AnalyticsItem(*day_key(DAY, 0), visitors=n, page_views=3 * n, product_views=n, orders=n // 2,
                               paid_fen=5_000 * n, paying_users=n // 3, sessions=n, bounced=n // 4))
    _write_all(items)


def seed_recommendations(n: int) -> None:
    """``n`` products in 40 categories, all viewed yesterday; ``n / 2`` orders paid yesterday of
    1–3 products each (every product in one at least), with the day's ``orders`` and
    ``product_views`` counters the facts write with them."""
    from chalicelib.domain.clock import business_date
    from chalicelib.store.analytics import PRODUCT_SHARDS, AnalyticsItem, basket_item, day_key, product_key

    rnd = random.Random(n)
    day = business_date(NOW) - timedelta(days=1)
    ids = product_ids(n)
    items = _products(ids, rnd)
    items += [AnalyticsItem(*product_key(day, p, rnd.randrange(PRODUCT_SHARDS)), views=rnd.randint(1, 50)) for p in ids]
    orders = n // 2
    for i in range(orders):
        basket = {ids[2 * i], ids[2 * i + 1], *rnd.sample(ids, rnd.randint(0, 1))}
        items.append(basket_item(day, f"o{i:08d}", f"u{i % 997}", [(p, 1) for p in sorted(basket)], NOW))
    items.append(AnalyticsItem(*day_key(day, 0), orders=orders, product_views=n))
    _write_all(items)


def section(rows: list[dict[str, Any]]) -> str:
    lines = ["Analytics jobs on DynamoDB Local (run through the engine; Lambda seconds derived at 512 MB)",
             f"  {'job':<24}{'size':>8}{'parts':>7}{'slices':>7}{'trips':>8}{'/item':>7}{'s':>7}"
             f"{'λ s':>7}{'slice λ s':>10}{'item B':>8}"]
    for r in rows:
        if "extrapolated_from" in r:
            continue
        lines.append(f"  {r['job']:<24}{r['size']:>8,}{r['parts']:>7}{r['slices']:>7}{r['round_trips']:>8,}"
                     f"{r['round_trips_per_item']:>7.3f}{r['seconds']:>7.1f}{r['lambda_seconds_derived']:>7.1f}"
                     f"{r['longest_slice_lambda_seconds']:>10.1f}{r['largest_item_bytes']:>8,}")
    for r in rows:
        if "extrapolated_from" not in r:
            continue
        lines.append(f"  {r['job']} at {r['size']:,} products (from {r['extrapolated_from']:,}): {r['parts']} parts, "
                     f"{r['slices']} slices, {r['part_lambda_seconds']:.0f} Lambda s per part, steps no slice cuts "
                     f"{r['atomic_step_lambda_seconds']}, each worker invocation ≤ {r['worker_invocation_seconds']:.0f}"
                     f" s (timeout {r['worker_timeout_seconds']:.0f} s), {r['round_trips']:,} round trips, cost "
                     f"${r['cost_usd']['total']:.2f} (DynamoDB ${r['cost_usd']['dynamodb']:.2f}, Lambda "
                     f"${r['cost_usd']['lambda']:.4f}, SQS ${r['cost_usd']['sqs']:.4f})")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    from bench.env import apply_in_process

    apply_in_process()
    chosen = tuple(int(a) for a in sys.argv[1:]) or None
    result = run(chosen)
    print(section(result))
    print(json.dumps(result, indent=1, default=str))
