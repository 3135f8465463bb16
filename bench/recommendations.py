"""The recommendation job and reads on DynamoDB Local (docs/experiments.md): round trips, capacity
and time of ``compute_recommendations`` with 1 day and with 30 days of baskets, when every day of
the window is summarised, when only the new day is (the daily steady state) and on a rerun; then a
product's recommendations and a user's home list.

The demo catalogue is seeded; each day holds ``per_day`` paid orders of 1–3 random products (as
the order-paid fact writes them: ``basket#`` items) and a view count per product.
"""
from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 10, 16, 50, tzinfo=UTC)  # 00:50 on 2026-11-11 in Shanghai: the scheduled time


def _fill(deps: Any, day: date, products: list[str], per_day: int, rnd: random.Random) -> None:
    """A day's baskets and product views with the day's counters they are written with."""
    from chalicelib.store.analytics import Tally, Write, basket_item

    baskets = [basket_item(day, uuid.uuid4().hex, f"u{i}", [(p, 1) for p in rnd.sample(products, rnd.randint(1, 3))],
                           NOW) for i in range(per_day)]
    for start in range(0, len(baskets), 90):
        counted = Tally()
        counted.add(day, "orders", len(baskets[start:start + 90]))
        assert deps.analytics.write(Write(tally=counted, puts=tuple(baskets[start:start + 90]))) is None
    views = Tally()
    for product_id in products:
        n = rnd.randint(1, 50)
        views.add_product(day, product_id, "views", n)
        views.add(day, "product_views", n)
    assert deps.analytics.write(Write(tally=views)) is None


def _measure(meter: Any, call: Any) -> tuple[dict[str, Any], Any]:
    meter.reset()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    snap = meter.take()
    return {"ms": round(seconds * 1000, 1), "round_trips": snap.round_trips, "calls": snap.describe_calls(),
            "rcu": snap.rcu, "wcu": snap.wcu}, result


def run(per_day: int = 200) -> dict[str, Any]:
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        try:
            return _run(per_day, db.backend)
        finally:
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
            from chalicelib.store.tables import reset_connections

            reset_connections()


def _run(per_day: int, backend: str) -> dict[str, Any]:
    from bench.meter import DynamoMeter
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.clock import business_date
    from chalicelib.jobs import run_job
    from chalicelib.services import auth, recommendations
    from chalicelib.services.demo import seed_demo
    from chalicelib.store.analytics import AnalyticsItem
    from chalicelib.store.recommendation_runs import day_pk
    from chalicelib.store.tables import all_models, ensure_tables, reset_connections

    reset_connections()
    ensure_tables()
    deps = Deps()
    seed_demo(deps)
    meter = DynamoMeter()
    meter.attach_models(all_models())
    products = [p.product_id for p in deps.products.list(None, 100, None)[0]]
    today, rnd = business_date(NOW), random.Random(7)
    def job(now: datetime, deps: Any) -> dict[str, Any]:
        return run_job("compute_recommendations", now, deps)

    runs: dict[str, Any] = {}
    job(NOW - timedelta(days=61), deps)  # warm-up (first-use imports and clients), over days never used below

    _fill(deps, today - timedelta(days=1), products, per_day, rnd)
    runs["1 day of baskets, window summarised"], _ = _measure(meter, lambda: job(NOW, deps))
    for back in range(2, 31):
        _fill(deps, today - timedelta(days=back), products, per_day, rnd)
    for back in range(1, 31):  # forget the summaries (their markers): the first run over 30 full days
        for item in AnalyticsItem.query(day_pk(today - timedelta(days=back))):
            item.delete()
    runs["30 days of baskets, window summarised"], summary = _measure(meter, lambda: job(NOW, deps))
    _fill(deps, today, products, per_day, rnd)
    later = NOW + timedelta(days=1)
    runs["30 days of baskets, next day (1 new day)"], _ = _measure(meter, lambda: job(later, deps))
    runs["30 days of baskets, rerun (0 new days)"], _ = _measure(meter, lambda: job(later, deps))
    reads: dict[str, Any] = {}
    reads["GET /v1/products/{id}/recommendations"], _ = _measure(
        meter, lambda: recommendations.for_product(products[0], None, deps))
    user = auth.login("dev:bench-recommendations", deps).user.user_id
    reads["GET /v1/me/recommendations (first: exposure)"], _ = _measure(meter, lambda: recommendations.for_user(user, None, deps))
    reads["GET /v1/me/recommendations"], _ = _measure(meter, lambda: recommendations.for_user(user, None, deps))
    meter.check_hooked(all_models())
    return {"backend": backend, "per_day": per_day, "products": len(products), "orders_in_window": summary["orders"],
            "job": runs, "reads": reads}


def section(result: dict[str, Any]) -> str:
    lines = [f"Recommendations on {result['backend']}: {result['per_day']} paid orders a day over "
             f"{result['products']} products ({result['orders_in_window']:,} in a 30-day window)",
             f"  {'':46} {'ms':>7} {'trips':>6} {'RCU':>7} {'WCU':>6}  calls"]
    for label, row in [*result["job"].items(), *result["reads"].items()]:
        lines.append(f"  {label:46} {row['ms']:7.1f} {row['round_trips']:6d} {row['rcu']:7.1f} {row['wcu']:6.1f}  "
                     f"{row['calls']}")
    return "\n".join(lines)
