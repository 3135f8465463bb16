"""The daily metrics: ``compute_metrics`` (the job) turns a day's aggregates into a stored row
and publishes it as CloudWatch metrics (Powertools EMF); ``metrics_rows`` serves the rows to the
admin API and the data board (docs/metrics.md).

The job reads aggregates only, never the order history. It is a plan of parts
(``metrics_parts``): ``<day>#day`` reads, in one BatchGetItem, the window stored two days before
(``metric_windows``: the last 7 days' figures and the month sums) and the counters of yesterday
and of the day, and stores the day-level row; ``<day>#p<b>`` walks one product bucket of the day
in product id order, a chunk of 100 products at a time (their counters, names and stock), and
stores each chunk (store/metric_rows.py). What a slice reads does not grow with the history, and
no item with the catalogue.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain import metrics as f
from chalicelib.domain.clock import SHANGHAI, Clock, business_date, system_clock
from chalicelib.domain.metric_catalog import CATALOGUE, PRODUCT_DIMENSION
from chalicelib.domain.metric_windows import LONGEST_LOOKBACK_DAYS, Window, advance, empty, fold
from chalicelib.domain.slices import Progress

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.analytics import ProductDay

Counts = Mapping[str, int]
DAY_KEYS = ("date", "products", "promotions")  # a row's fields that are not metrics
PRODUCT_KEYS = ("product_id", "name")
LIVE_DAYS = 2  # today and yesterday are computed live when no row is stored (the job runs after midnight)
EMF_MAX_AGE = timedelta(days=13)  # CloudWatch refuses data points older than two weeks


def day_metrics(day: date, c: Counts, before: Window) -> tuple[dict[str, int], Window]:
    """The day-level metrics of ``day`` from its counters and the window of the day before; and
    the window of ``day``."""
    window = advance(before, day, c)
    conversion = f.conversion_bp(c["paying_users"], c["visitors"])
    baseline = [f.conversion_bp(p, v) if v else None for p, v in zip(before.paying_users, before.visitors, strict=True)]
    return {
        "gmv_fen": f.gmv_fen(c["paid_fen"], c["refunded_fen"]),
        "orders": c["orders"],
        "paying_users": c["paying_users"],
        "avg_order_value_fen": f.avg_order_value_fen(c["paid_fen"], c["orders"]),
        "promoted_orders": c["promoted_orders"],
        "promotion_discount_fen": c["promotion_discount_fen"],
        "avg_order_value_promoted_fen": f.avg_order_value_fen(c["promoted_paid_fen"], c["promoted_orders"]),
        "avg_order_value_unpromoted_fen": f.avg_order_value_fen(c["paid_fen"] - c["promoted_paid_fen"],
                                                                c["orders"] - c["promoted_orders"]),
        "refunds": c["refunds"],
        "refunded_fen": c["refunded_fen"],
        "gross_margin_bp": f.gross_margin_bp(c["paid_fen"], c["paid_cost_fen"], c["refunded_fen"],
                                             c["refunded_cost_fen"]),
        "visitors": c["visitors"],
        "page_views": c["page_views"],
        "product_views": c["product_views"],
        "shares": c["shares"],
        "sessions": c["sessions"],
        "bounce_rate_bp": f.bounce_rate_bp(c["bounced"], c["sessions"]),
        "conversion_bp": conversion,
        "conversion_vs_7day_mean_bp": f.change_vs_mean_bp(conversion, baseline),
        "new_users": c["new_users"],
        "new_user_conversion_bp": f.new_user_conversion_bp(window.new_users, window.first_payments),
        "repurchase_rate_bp": f.repurchase_rate_bp(c["repeat_buyers"], c["paying_users"]),
        "bindings": c["bindings"],
        "active_distributors": c["active_distributors"],
        "distributor_retention_bp": f.distributor_retention_bp(window.month_retained, window.last_month_first),
        "commission_accrued_fen": c["commission_accrued_fen"],
        "commission_settled_fen": c["commission_settled_fen"],
        "withdrawn_fen": c["withdrawn_fen"],
        "shipped_orders": c["shipped"],
        "completed_orders": c["completed"],
        "delivered_orders": c["delivered"],
        "on_time_delivery_bp": f.on_time_delivery_bp(c["delivered_on_time"], c["delivered"]),
    }, window


def window_before(day: date, deps: Deps) -> tuple[Window, Counts]:
    """The window of the day before ``day``, and ``day``'s counters, from one read:
    the stored window of two days before and the counters of the two days since (yesterday's
    again: an event may come up to 24 hours late). Without that stored window (the job's first
    run, or days it missed), from the counters of the 62 days before."""
    yesterday, before_yesterday = day - timedelta(days=1), day - timedelta(days=2)
    counts, stored = deps.analytics.counts_and_windows([yesterday, day], [before_yesterday])
    start = Window.of(stored[before_yesterday]) if before_yesterday in stored else rebuilt_window(before_yesterday, deps)
    return advance(start, yesterday, counts[yesterday]), counts[day]


def rebuilt_window(day: date, deps: Deps) -> Window:
    """The window of ``day`` from the latest window stored in the 62 days before it (or from
    nothing) and the counters of the days since."""
    days = [day - timedelta(days=i) for i in range(LONGEST_LOOKBACK_DAYS, -1, -1)]
    counts, stored = deps.analytics.counts_and_windows(days[1:], days[:-1])
    latest = max(stored, default=None)
    start = Window.of(stored[latest]) if latest is not None else empty(days[0])
    return fold(start, counts, day)


def product_metrics(product_id: str, name: str, views: int, units_sold: int, stock: int) -> dict[str, Any]:
    return {"product_id": product_id, "name": name, "units_sold": units_sold, "views": views,
            "inventory_turnover_days": f.inventory_turnover_days(stock, units_sold),
            "sell_through_bp": f.sell_through_bp(units_sold, stock)}


def products_of(counts: Sequence[tuple[str, ProductDay]], deps: Deps) -> list[dict[str, Any]]:
    """The per-product metrics of these products' counts, in the order given, with their name and
    stock now (one BatchGetItem per 100). Product views name any product id a client sends: only
    ids of real products make the row."""
    stock = deps.analytics.stock_of([p for p, _ in counts]) if counts else {}
    return [product_metrics(p, stock[p][0], c.views, c.units, stock[p][1]) for p, c in counts if p in stock]


def compute_row(day: date, deps: Deps) -> tuple[dict[str, Any], list[Window]]:
    """The row of ``day`` (its day metrics and, for every catalogue product viewed or sold on it,
    the per-product metrics, best sellers first) and the windows of the day before and of ``day``:
    what the board shows for today and yesterday before the job stored them."""
    from chalicelib.services.promotion_metrics import day_promotions
    from chalicelib.store.metric_rows import best_sellers_first

    before, counts = window_before(day, deps)
    metrics, window = day_metrics(day, counts, before)
    products = products_of(sorted(deps.analytics.product_day_counts(day).items()), deps)
    return {"date": day.isoformat(), **metrics, "products": best_sellers_first(products),
            "promotions": day_promotions(day, counts, deps)}, [before, window]


# The job: a day-level part and one part per product bucket ------------------------------------
DAY_PART = "day"


def metrics_day(now: datetime) -> date:
    """The day a run at ``now`` computes: the Shanghai day before."""
    return business_date(now) - timedelta(days=1)


def metrics_parts(now: datetime, deps: Deps) -> list[str]:
    """``<day>#day`` (the day-level row and windows), ``<day>#p<b>`` for each product bucket and
    ``<day>#rcy`` (the repurchase cycle per category, services/repurchase.py)."""
    from chalicelib.services.repurchase import PART
    from chalicelib.store.analytics import PRODUCT_BUCKETS

    day = metrics_day(now).isoformat()
    return [f"{day}#{DAY_PART}", *(f"{day}#p{bucket}" for bucket in range(PRODUCT_BUCKETS)), f"{day}#{PART}"]


def metrics_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One slice of a part (``metrics_parts``): the day-level row in one go, or a product bucket's
    chunks from ``cursor`` (the last product id stored) until the bucket ends or ``deadline``."""
    day_text, which = part.split("#", 1)
    day = date.fromisoformat(day_text)
    if which == DAY_PART:
        return _day_part(day, now, deps)
    from chalicelib.services.repurchase import PART, repurchase_part

    if which == PART:
        return repurchase_part(day, deps)
    return _product_part(day, int(which.removeprefix("p")), json.loads(cursor) if cursor else None, now, deps,
                         deadline)


def metrics_finish(now: datetime, deps: Deps, counts: dict[str, int]) -> dict[str, Any]:
    return {"date": metrics_day(now).isoformat()}


def _day_part(day: date, now: datetime, deps: Deps) -> Progress:
    """The day-level row of ``day``, stored (replacing an earlier run's) with the windows of that
    day and the day before, and published."""
    from chalicelib.services.promotion_metrics import day_promotions

    before, counts = window_before(day, deps)
    metrics, window = day_metrics(day, counts, before)
    row = {"date": day.isoformat(), **metrics, "promotions": day_promotions(day, counts, deps)}
    deps.analytics.save_day(day, row, {w.day: w.as_dict() for w in (before, window)}, now)
    return Progress(counts={"published": publish_day(row)})


def _product_part(day: date, bucket: int, after: str | None, now: datetime, deps: Deps, deadline: Deadline
                  ) -> Progress:
    """The bucket's products after ``after``, a chunk at a time: their counts (the bucket's shard
    Queries, merged), names and stock, the chunk stored and its products published. Hands back
    after a whole chunk only, so the chunks are the same however the part is sliced."""
    from itertools import islice

    from chalicelib.store.metric_rows import CHUNK_PRODUCTS

    stream = deps.analytics.product_totals(day, bucket, after)
    done = {"products": 0, "published": 0, "chunks_replaced": 0}
    while True:
        counts = list(islice(stream, CHUNK_PRODUCTS))
        last = counts[-1][0] if len(counts) == CHUNK_PRODUCTS else None  # None: the bucket ends in this chunk
        products = products_of(counts, deps)
        done["chunks_replaced"] += deps.analytics.save_products(day, bucket, after, last, products, now)
        done["products"] += len(products)
        done["published"] += publish_products(day.isoformat(), products)
        if last is None:
            return Progress(counts=done)
        after = last
        if deadline.expired():
            return Progress(counts=done, cursor=json.dumps(after))


def metrics_rows(from_day: date, to_day: date, deps: Deps) -> list[dict[str, Any]]:
    """The rows of the days from ``from_day`` to ``to_day`` (inclusive), oldest first: the stored
    ones, and today's and yesterday's computed live when not stored yet (so the board is current).
    Days never computed before that are absent."""
    stored = {row["date"]: row for row in deps.analytics.rows(from_day, to_day)}
    today = business_date(deps.clock())
    for offset in range(LIVE_DAYS):
        day = today - timedelta(days=offset)
        if from_day <= day <= to_day and day.isoformat() not in stored:
            stored[day.isoformat()] = compute_row(day, deps)[0]
    return [stored[d] for d in sorted(stored)]


def publish(row: dict[str, Any], wall_clock: Clock = system_clock) -> int:
    """Emit the row's catalogue metrics as EMF (namespace Fenxiao), dated noon of the row's day;
    per-product metrics with a ``product_id`` dimension. Returns the values emitted: 0 when
    CloudWatch would refuse the date (over 13 days before the real time, or after it: a re-run of
    an old day, or the simulator's clock set elsewhere)."""
    return publish_day(row, wall_clock) + publish_products(row["date"], row["products"], wall_clock)


def _emf_time(day: str, wall_clock: Clock) -> datetime | None:
    """Noon of ``day`` in Shanghai, when CloudWatch takes a data point of then."""
    at = datetime.combine(date.fromisoformat(day), time(12), tzinfo=SHANGHAI).astimezone(UTC)
    return at if timedelta(0) <= wall_clock() - at <= EMF_MAX_AGE else None


def publish_day(row: dict[str, Any], wall_clock: Clock = system_clock) -> int:
    """The day-level metrics of ``row`` as EMF (``publish``)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    from chalicelib.observability import NAMESPACE, SERVICE

    at = _emf_time(row["date"], wall_clock)
    if at is None:
        return 0
    emitted = 0
    day = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    day.set_timestamp(at)
    for metric in CATALOGUE:
        if not metric.per_product and row.get(metric.name) is not None:
            day.add_metric(name=metric.name, unit=metric.unit.value, value=row[metric.name])
            emitted += 1
    day.flush_metrics()
    return emitted


def publish_products(day: str, products: Sequence[dict[str, Any]], wall_clock: Clock = system_clock) -> int:
    """The per-product metrics of ``products`` as EMF, one document per product (``publish``)."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    from chalicelib.observability import NAMESPACE, SERVICE

    at = _emf_time(day, wall_clock)
    if at is None:
        return 0
    emitted = 0
    for product in products:
        one = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        one.set_timestamp(at)
        one.add_dimension(name=PRODUCT_DIMENSION, value=product["product_id"])
        for metric in CATALOGUE:
            if metric.per_product and product.get(metric.name) is not None:
                one.add_metric(name=metric.name, unit=metric.unit.value, value=product[metric.name])
                emitted += 1
        one.flush_metrics()
    return emitted
