"""The daily metrics job and event ingestion, against DynamoDB Local (docs/performance.md).

* ``compute_metrics`` over 1 day of history and over 30 days of history (the same traffic each
  day: visitors' events, paid orders with payees, a refund, shipments, completions): time, calls
  and read units. The job reads a fixed set of aggregate items per day of its window, so the two
  figures should agree: its reads do not grow with the history (or the orders in it).
* ``POST /v1/events`` through the service: events counted per second, single thread, in batches
  of 10 and of 100, and the calls a batch costs.

Aggregates are written by the app's own fact and event functions (no shortcut seeding), so the
seeding itself is the mall's write path at work.
"""
from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from bench.report import table

ORDERS_PER_DAY = 40
VISITORS_PER_DAY = 60
PRODUCTS = 20
JOB_RUNS = 5
ONE_DAY_END = date(2031, 3, 31)  # the two histories live on different days of one database
THIRTY_DAYS_END = date(2032, 3, 31)


def _noon(day: date) -> datetime:
    from chalicelib.domain.clock import SHANGHAI

    return datetime.combine(day, day_time(12), tzinfo=SHANGHAI).astimezone(UTC)


def _seed_day(deps: Any, day: date, distributors: list[str]) -> None:
    """One day of traffic: visitors' page and product views, paid orders (half of them with a
    payee), a refund, shipments and completions."""
    from chalicelib.domain.activity import Event, EventType
    from chalicelib.domain.orders import Line, Order, OrderStatus, Share
    from chalicelib.services import events, facts

    at = _noon(day)
    deps.clock = lambda: at
    for v in range(VISITORS_PER_DAY):
        user, session = f"v{v}", f"{day}-{v}"
        batch = [Event(EventType.PAGE_VIEW, session, at - timedelta(seconds=s), f"/p{s}") for s in range(1 + v % 3)]
        batch.append(Event(EventType.PRODUCT_VIEW, session, at, product_id=f"bench-p{v % PRODUCTS}"))
        events.record_events(user, batch, deps)
    for n in range(ORDERS_PER_DAY):
        line = Line(f"bench-p{n % PRODUCTS}", "bench", 1 + n % 2, 5_000, 2_000, 1_600, 500)
        order = Order(f"bo{day:%Y%m%d}{n:04d}", f"v{n}", OrderStatus.PAID, [line], line.paid_fen, at, at, paid_at=at,
                      shipped_at=at)
        shares = [Share(distributors[n % len(distributors)], 1, 800)] if n % 2 else []
        facts.order_paid(deps, order, shares, at)
        facts.order_shipped(deps, order.order_id, at)
        facts.order_completed(deps, order.order_id, at)
        facts.order_delivered(deps, order.order_id, at - timedelta(hours=30), at, 48)
    from chalicelib.store.analytics import Tally, Write

    refund = Tally()  # a refund is counted inside the refund's own transaction (store/orders.py): here its counters
    for name, n in (("refunds", 1), ("refunded_fen", order.amount_fen), ("refunded_cost_fen", line.cost_fen)):
        refund.add(day, name, n)
    deps.analytics.write(Write(tally=refund))


def _seed_products(deps: Any) -> None:
    from chalicelib.domain.catalog import Product

    for p in range(PRODUCTS):
        deps.products.put_if_absent(Product(f"bench-p{p}", f"bench {p}", "food", 2_000, 5_000, 1_000, 1_600, 500),
                                    datetime(2031, 1, 1, tzinfo=UTC))


def _job(deps: Any, meter: Any, last_day: date) -> dict[str, Any]:
    from chalicelib.jobs import run_job

    def compute_metrics(now: datetime, deps: Any) -> dict[str, Any]:
        return run_job("compute_metrics", now, deps)

    now = _noon(last_day + timedelta(days=1)) - timedelta(hours=11)  # 01:00 the next day
    meter.reset()
    compute_metrics(now - timedelta(days=1), deps)  # the run of the night before, as scheduled
    night_before = meter.take()
    millis, snapshots = [], []
    for _ in range(JOB_RUNS):
        meter.reset()
        started = time.perf_counter()
        summary = compute_metrics(now, deps)
        millis.append((time.perf_counter() - started) * 1000)
        snapshots.append(meter.take())
    snap = snapshots[-1]
    reads = {k: v for k, v in snap.calls.items() if k in ("BatchGetItem", "Query", "GetItem")}
    return {"ms_median": statistics.median(millis), "calls": dict(snap.calls), "items": dict(snap.items),
            "described": snap.describe_calls(),
            "read_calls": sum(reads.values()), "rcu": snap.rcu, "wcu": snap.wcu, "products": summary["products"],
            "same_over_runs": all(s.calls == snap.calls and s.rcu == snap.rcu for s in snapshots),
            "night_before": night_before.describe_calls(), "night_before_rcu": night_before.rcu}


def _ingest(deps: Any, meter: Any, batch_size: int, batches: int) -> dict[str, Any]:
    from chalicelib.domain.activity import Event, EventType
    from chalicelib.services import events

    at = _noon(date(2033, 1, 1))
    deps.clock = lambda: at
    kinds = (EventType.PAGE_VIEW, EventType.PRODUCT_VIEW, EventType.SHARE)
    work = []
    for b in range(batches):
        user = uuid.uuid4().hex
        work.append((user, [Event(kinds[i % 3], f"s{b}-{i // 5}", at - timedelta(milliseconds=i), f"/p{i}",
                                  f"bench-p{i % PRODUCTS}") for i in range(batch_size)]))
    meter.reset()
    started = time.perf_counter()
    accepted = sum(events.record_events(user, batch, deps).accepted for user, batch in work)
    seconds = time.perf_counter() - started
    snap = meter.take()
    return {"batch": batch_size, "batches": batches, "events": accepted, "seconds": seconds,
            "events_per_second": accepted / seconds, "batches_per_second": batches / seconds,
            "calls_per_batch": {k: v / batches for k, v in snap.calls.items()},
            "transaction_items_per_batch": snap.items.get("TransactWriteItems", 0) / batches}


def run() -> dict[str, Any]:
    import os

    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        from bench.meter import DynamoMeter
        from chalicelib.bootstrap import Deps
        from chalicelib.store.tables import all_models, ensure_tables, reset_connections

        reset_connections()
        ensure_tables()
        meter = DynamoMeter()
        meter.attach_models(all_models())
        deps = Deps()
        _seed_products(deps)
        distributors = [f"d{i}" for i in range(10)]
        seeded = time.perf_counter()
        _seed_day(deps, ONE_DAY_END, distributors)
        for offset in range(29, -1, -1):
            _seed_day(deps, THIRTY_DAYS_END - timedelta(days=offset), distributors)
        seed_seconds = time.perf_counter() - seeded
        one, thirty = _job(deps, meter, ONE_DAY_END), _job(deps, meter, THIRTY_DAYS_END)
        ingest = [_ingest(deps, meter, 10, 200), _ingest(deps, meter, 100, 20)]
        meter.check_hooked(all_models())
        reset_connections()
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        return {"backend": db.backend, "orders_per_day": ORDERS_PER_DAY, "visitors_per_day": VISITORS_PER_DAY,
                "seed_seconds": seed_seconds, "job_1_day": one, "job_30_days": thirty, "ingest": ingest}


def section(result: dict[str, Any]) -> str:
    one, thirty = result["job_1_day"], result["job_30_days"]
    rows = [[label, orders, r["described"], r["read_calls"], f"{r['rcu']:g}", f"{r['wcu']:g}", f"{r['ms_median']:.0f}"]
            for label, orders, r in (("1 day", result["orders_per_day"], one),
                                     ("30 days", 30 * result["orders_per_day"], thirty))]
    flat = "flat: the same calls and keys" if (one["calls"], one["items"]) == (thirty["calls"], thirty["items"]) \
        else "NOT flat"
    ingest_rows = [[r["batch"], r["batches"], r["events"], f"{r['events_per_second']:.0f}",
                    f"{r['batches_per_second']:.1f}",
                    ", ".join(f"{k}×{v:g}" for k, v in sorted(r["calls_per_batch"].items())),
                    f"{r['transaction_items_per_batch']:g}"] for r in result["ingest"]]
    return "\n".join([
        f"compute_metrics for the last day of a history, against {result['backend']} "
        f"({JOB_RUNS} runs each; {result['orders_per_day']} paid orders and {result['visitors_per_day']} "
        f"visitors a day): {flat}",
        table(["history", "orders in it", "calls", "read calls", "RCU", "WCU", "ms (median)"], rows,
              right=(1, 3, 4, 5, 6)),
        f"(each after the run of the night before, as scheduled; that run, the job's first on the 1-day history, "
        f"found no stored window and rebuilt it from 62 days of counters: {one['night_before']}, "
        f"{one['night_before_rcu']:g} RCU). DynamoDB Local charges the keys it finds: on the 1-day history "
        "yesterday's 8 counter items are absent, hence the lower RCU; the keys asked for are the same.",
        "",
        f"Event ingestion (POST /v1/events' service), single thread, against {result['backend']}",
        table(["events/batch", "batches", "events", "events/s", "batches/s", "calls per batch", "items written/batch"],
              ingest_rows, right=(0, 1, 2, 3, 4, 6)),
    ])
