"""The order jobs' capacity (issue 14, docs/orders.md "Capacity"), and one product's flash-sale
ceiling with its stock split over K cells, against DynamoDB Local.

Jobs: ``cancel_unpaid`` at 500 / 1k / 5k due orders, ``auto_confirm`` and ``expire_groups`` at
500 / 1k / 2k (``SIZES_OF``; ``LARGER_SIZES_OF`` for a quiet machine), seeded with
BatchWriteItem straight into the orders table (spread over the 16 shards by their random ids, as
checkout makes them), each run through the job engine (``run_job``: 16
parts, slices of at most 45 s). Per size: parts, slices, DynamoDB round trips (all tables, the
engine's own run items too) and per item, seconds, the largest item. Then a derived row for a
million due items a day, with its cost.

Flash sale: ``THREADS`` threads check out one unit each of one product split over K = 1, 4, 16
cells (DynamoDB Local); measured: checkouts a second here, transactions cancelled by a conflict
(``TransactionConflict``, which DynamoDB Local never returns: its writes are serialised) and by a
condition, client retries. Derived, for DynamoDB itself: an item takes ~1,000 write units a second
and a transactional write costs 2 units, so ~500 checkouts a second per cell, K × 500 for the
product; capped by the product item's reads (every checkout reads it once, eventually
consistent: 0.5 unit of the partition's 3,000 read units a second, so ~6,000 a second).

Prices: ``bench.capacity.PRICES`` (us-east-1 on-demand list prices, USD), through ``run_cost``:
the work's seconds here taken as Lambda seconds at 512 MB.
"""
from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.capacity import run_cost

# auto_confirm and expire_groups do 5-6 round trips an item (the confirmation's or the refund's
# own reads and transaction, the fact counted): 20,000 of them take ~15 minutes on a quiet 2-core
# machine, so the default sizes stop at 5,000 and 2,000 (the per-item figures are flat from 1,000 on).
SIZES_OF = {"cancel_unpaid": (500, 1_000, 5_000), "auto_confirm": (500, 1_000, 2_000),
            "expire_groups": (500, 1_000, 2_000)}
LARGER_SIZES_OF = {"cancel_unpaid": (1_000, 5_000, 20_000), "auto_confirm": (1_000, 5_000, 20_000),
                   "expire_groups": (1_000, 5_000, 20_000)}
NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
THREADS, CHECKOUTS = 32, 480
FLASH_CELLS = (1, 4, 16)
MILLION = 1_000_000
CELL_WRITES_PER_SECOND = 1_000 / 2  # one item's write units a second / a transactional write's cost
PRODUCT_READS_PER_SECOND = 3_000 / 0.5  # one item's read units a second / an eventually consistent read


def run(sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    from bench.env import REPO_ROOT, apply_in_process

    apply_in_process()
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        from chalicelib.store.tables import reset_connections

        reset_connections()
        try:
            return _measure(sizes)
        finally:
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
            reset_connections()


def _measure(sizes: tuple[int, ...] | None) -> list[dict[str, Any]]:
    from bench.meter import DynamoMeter
    from chalicelib.store.tables import all_models, ensure_tables

    ensure_tables()
    meter = DynamoMeter()
    meter.attach_models(all_models())
    rows: list[dict[str, Any]] = []
    for job, seed in (("cancel_unpaid", _seed_unpaid), ("auto_confirm", _seed_shipped),
                      ("expire_groups", _seed_groups)):
        for size in sizes or SIZES_OF[job]:
            rows.append(_run_job(job, size, seed, meter))
        rows.append(_extrapolate(job, rows[-1]))
    rows += flash_sale(meter)
    return rows


# Seeding ------------------------------------------------------------------------------------------

def _products(run: str, count: int = 50) -> list[str]:
    from chalicelib.store.products import ProductItem

    ids = [f"p{run}{i:03d}" for i in range(count)]
    with ProductItem.batch_write() as batch:
        for product_id in ids:
            batch.save(ProductItem(product_id, name="面膜", category="beauty", cost_fen=1_500, price_fen=5_000,
                                   stock=1_000_000, level1_rate_bp=2_000, level2_rate_bp=500, created_at=NOW))
    return ids


def _order(run: str, i: int, product_id: str, **fields: Any) -> Any:
    import secrets

    from chalicelib.domain.clock import iso
    from chalicelib.store.order_items import OrderItem

    order_id = f"o{run}{i:06d}{secrets.token_hex(4)}"
    line = {"product_id": product_id, "name": "面膜", "quantity": 1, "unit_price_fen": 5_000,
            "unit_cost_fen": 1_500, "level1_rate_bp": 2_000, "level2_rate_bp": 500}
    created = NOW - timedelta(days=8)
    fields.setdefault("kind", "normal")
    return OrderItem(order_id, buyer_id=f"u{run}{i % 997:04d}", lines_json=json.dumps([line]),
                     amount_fen=5_000, created_at=created, created_key=f"{iso(created)}#{order_id}",
                     address_json=json.dumps({"name": "买家", "phone": "13800000000", "detail": "北京"}),
                     **fields)


def _seed_unpaid(size: int, run: str) -> None:
    """``size`` orders unpaid past their deadline, over the look-back days."""
    from chalicelib.domain.clock import business_date, iso
    from chalicelib.domain.orders import due_partition
    from chalicelib.store.order_items import OrderItem

    products = _products(run)
    with OrderItem.batch_write() as batch:
        for i in range(size):
            deadline = NOW - timedelta(minutes=1 + i % (6 * 24 * 60))
            item = _order(run, i, products[i % len(products)], status="pending_payment", pay_deadline=deadline)
            item.unpaid_day = due_partition(business_date(deadline), item.order_id)
            item.pay_deadline_key = f"{iso(deadline)}#{item.order_id}"
            batch.save(item)


def _seed_shipped(size: int, run: str) -> None:
    """``size`` shipped orders due for automatic confirmation (no commissions: unbound buyers)."""
    from chalicelib.domain.clock import business_date, iso
    from chalicelib.domain.orders import due_partition
    from chalicelib.store.order_items import OrderItem

    products = _products(run)
    with OrderItem.batch_write() as batch:
        for i in range(size):
            due = NOW - timedelta(minutes=1 + i % (20 * 24 * 60))
            item = _order(run, i, products[i % len(products)], status="shipped", pay_deadline=NOW - timedelta(days=8),
                          paid_at=due - timedelta(days=7, hours=1), shipped_at=due - timedelta(days=7),
                          carrier="SF", tracking_no=f"SF{i:08d}", transaction_id=f"t{run}{i}")
            item.confirm_day = due_partition(business_date(due), item.order_id)
            item.confirm_due_key = f"{iso(due)}#{item.order_id}"
            batch.save(item)


def _seed_groups(size: int, run: str) -> None:
    """``size`` open groups past their deadline, each with its leader's unpaid order."""
    from chalicelib.domain.clock import business_date, iso
    from chalicelib.domain.orders import due_partition
    from chalicelib.store.order_items import OrderItem

    products = _products(run)
    with OrderItem.batch_write() as batch:
        for i in range(size):
            expires = NOW - timedelta(minutes=1 + i % (6 * 24 * 60))
            group_id = f"g{run}{i:06d}{uuid.uuid4().hex[:6]}"
            order = _order(run, i, products[i % len(products)], status="pending_payment", kind="group",
                           pay_deadline=expires, group_id=group_id)
            order.unpaid_day = due_partition(business_date(expires), order.order_id)
            order.pay_deadline_key = f"{iso(expires)}#{order.order_id}"
            leader = order.buyer_id
            batch.save(order)
            batch.save(OrderItem(f"group#{group_id}", group_status="open", product_id=products[i % len(products)],
                                 leader_id=leader, group_size=3,
                                 lines_json=order.lines_json, held_count=1, paid_count=0,
                                 seats={leader: {"order_id": order.order_id, "state": "held"}},
                                 created_at=expires - timedelta(hours=24), expires_at=expires,
                                 group_day=due_partition(business_date(expires), group_id),
                                 group_due_key=f"{iso(expires)}#{group_id}"))


# Running -------------------------------------------------------------------------------------------

def _run_job(job: str, size: int, seed: Any, meter: Any) -> dict[str, Any]:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs import run_job

    _clear_orders()
    seed(size, uuid.uuid4().hex[:4])
    deps = Deps(clock=lambda: NOW)
    meter.reset()
    started = time.perf_counter()
    summary = run_job(job, NOW, deps)
    seconds = time.perf_counter() - started
    seen = meter.take()
    done = summary[{"cancel_unpaid": "cancelled", "auto_confirm": "confirmed", "expire_groups": "failed"}[job]]
    if done != size:
        raise AssertionError(f"{job} at {size}: did {done} ({summary})")
    return {"job": job, "size": size, "parts": summary["parts"], "slices": summary["slices"],
            "round_trips": seen.round_trips, "round_trips_per_item": round(seen.round_trips / size, 2),
            "seconds": round(seconds, 2), "largest_item_bytes": _largest_item(),
            "rcu_per_item": round(seen.rcu / size, 2), "wcu_per_item": round(seen.wcu / size, 2)}


def _clear_orders() -> None:
    """Each measurement starts from empty order and product tables (the items of the previous one
    are neither due nor in the way, but a Scan-free start keeps the runs comparable)."""
    from chalicelib.store.order_items import OrderItem
    from chalicelib.store.products import ProductItem

    for model in (OrderItem, ProductItem):
        if model.exists():
            model.delete_table()
        model.create_table(wait=True)


def _largest_item() -> int:
    """The largest item of the orders table, as DynamoDB sizes it roughly (names + values)."""
    from chalicelib.store.order_items import OrderItem

    client = OrderItem._get_connection().connection.client
    largest = 0
    for page in client.get_paginator("scan").paginate(TableName=OrderItem.Meta.table_name,
                                                       PaginationConfig={"MaxItems": 2_000}):
        for item in page["Items"]:
            largest = max(largest, len(json.dumps(item, ensure_ascii=False).encode()))
    return largest


def _extrapolate(job: str, measured: dict[str, Any]) -> dict[str, Any]:
    """A million due items a day, from the largest measured size: round trips and units per item
    stay flat (the table above shows it), seconds per item as measured here; slices = the work
    over 45 s slices, at least one per part; cost of a day's runs."""
    per_item_seconds = measured["seconds"] / measured["size"]
    work_seconds = per_item_seconds * MILLION
    runs_a_day = 288 if job != "auto_confirm" else 1  # every 5 minutes, or daily
    slices = max(16 * runs_a_day, math.ceil(work_seconds / 45))
    rcu, wcu = measured["rcu_per_item"] * MILLION, measured["wcu_per_item"] * MILLION
    cost = run_cost(wcu, rcu, work_seconds, slices, digits=2)
    return {"job": job, "size": MILLION, "parts": 16, "slices": slices,
            "round_trips": round(measured["round_trips_per_item"] * MILLION),
            "round_trips_per_item": measured["round_trips_per_item"], "seconds": round(work_seconds),
            "largest_item_bytes": measured["largest_item_bytes"], "extrapolated": True,
            "worker_seconds_per_slice": round(min(45.0, work_seconds / slices), 1),
            "cost_usd_per_day": cost}


# Flash sale ------------------------------------------------------------------------------------------

def flash_sale(meter: Any) -> list[dict[str, Any]]:
    """One product, ``CHECKOUTS`` checkouts of one unit on ``THREADS`` threads, at K = 1, 4, 16."""
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.catalog import Product
    from chalicelib.services import auth
    from chalicelib.store.products import ProductItem

    rows = []
    for cells in FLASH_CELLS:
        deps = Deps()
        product_id = f"pflash{cells}{uuid.uuid4().hex[:6]}"
        deps.products.put_if_absent(Product(product_id, "秒杀", "beauty", 1_500, 5_000, CHECKOUTS, 2_000, 500,
                                            stock_cells=cells), NOW)
        buyers = [auth.login(f"dev:flash{cells}-{i}-{uuid.uuid4().hex[:4]}", deps).user.user_id
                  for i in range(CHECKOUTS)]
        reasons: Counter[str] = Counter()
        conflicts = _count_cancellations(ProductItem, reasons)
        retries: Counter[str] = Counter()
        start = threading.Event()
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(_checkout, deps, b, product_id, start, retries) for b in buyers]
            started = time.perf_counter()
            start.set()
            outcomes = Counter(f.result() for f in futures)
        seconds = time.perf_counter() - started
        conflicts()
        left = deps.products.get(product_id)
        if outcomes["ordered"] != CHECKOUTS or left is None or left.stock != 0:
            raise AssertionError(f"flash sale K={cells}: {outcomes}, stock left {left and left.stock}")
        ceiling = min(cells * CELL_WRITES_PER_SECOND, PRODUCT_READS_PER_SECOND)
        rows.append({"job": f"flash_sale K={cells}", "size": CHECKOUTS, "parts": cells, "slices": None,
                     "round_trips": None, "round_trips_per_item": None, "seconds": round(seconds, 2),
                     "largest_item_bytes": None, "threads": THREADS,
                     "checkouts_per_second_local": round(CHECKOUTS / seconds, 1),
                     "cancelled_transactions": dict(reasons), "client_retries": retries["TRY_AGAIN"],
                     "dynamodb_ceiling_per_second": int(ceiling),
                     "ceiling_by": "cells' writes" if ceiling < PRODUCT_READS_PER_SECOND else "product item's reads"})
    return rows


def _checkout(deps: Any, buyer: str, product_id: str, start: threading.Event, retries: Counter[str]) -> str:
    """One buyer's checkout of one unit, as a client makes it: a TRY_AGAIN is sent again."""
    from chalicelib.domain.errors import DomainError
    from chalicelib.services import orders

    start.wait()
    body = {"items": [{"product_id": product_id, "quantity": 1}],
            "address": {"name": "买家", "phone": "13800000000", "detail": "北京"}}
    key = uuid.uuid4().hex
    for _ in range(50):
        try:
            orders.place_order(buyer, [(product_id, 1)], body, key, deps)
            return "ordered"
        except DomainError as exc:
            if exc.code != "TRY_AGAIN":
                return exc.code
            retries["TRY_AGAIN"] += 1
    return "gave_up"


def _count_cancellations(model: Any, reasons: Counter[str]) -> Any:
    """Count the cancellation reasons of every TransactWriteItems (``TransactionConflict`` versus
    ``ConditionalCheckFailed``) on the model's client; returns the function that unhooks it."""
    client = model._get_connection().connection.client
    lock = threading.Lock()

    def after(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        codes = [r.get("Code") for r in parsed.get("CancellationReasons", []) if r.get("Code") not in (None, "None")]
        if codes:
            with lock:
                reasons.update(codes)

    client.meta.events.register("after-call.dynamodb.TransactWriteItems", after)
    return lambda: client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", after)
