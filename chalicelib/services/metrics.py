"""The daily metrics: ``compute_metrics`` (the job) turns a day's aggregates into one stored row
and publishes it as CloudWatch metrics (Powertools EMF); ``metrics_rows`` serves the rows to the
admin API and the data board (docs/metrics.md).

The job reads aggregates only, never the order history: in one BatchGetItem the window stored
two days before (``metric_windows``: the last 7 days' figures and the month sums) and the
counters of yesterday and of the day; then the day's product counters and those products'
stock. What it reads does not grow with the length of history (docs/metrics.md).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain import metrics as f
from chalicelib.domain.clock import SHANGHAI, Clock, business_date, system_clock
from chalicelib.domain.metric_catalog import CATALOGUE, PRODUCT_DIMENSION
from chalicelib.domain.metric_windows import LONGEST_LOOKBACK_DAYS, Window, advance, empty, fold

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

Counts = Mapping[str, int]
DAY_KEYS = ("date", "products")  # a row's fields that are not metrics
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
        "on_time_delivery_bp": f.on_time_delivery_bp(c["completed_on_time"], c["completed"]),
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


def compute_row(day: date, deps: Deps) -> tuple[dict[str, Any], list[Window]]:
    """The row of ``day`` (its day metrics and, for every catalogue product viewed or sold on it,
    the per-product metrics, best sellers first) and the windows of the day before and of ``day``.
    Product views name any product id a client sends: only ids of real products make the row."""
    before, counts = window_before(day, deps)
    metrics, window = day_metrics(day, counts, before)
    by_product = deps.analytics.product_day_counts(day)
    stock = deps.analytics.stock_of(list(by_product)) if by_product else {}
    products = [product_metrics(p, stock[p][0], c.views, c.units, stock[p][1])
                for p, c in by_product.items() if p in stock]  # a product id no product has is left out
    products.sort(key=lambda p: (-p["units_sold"], -p["views"], p["product_id"]))
    return {"date": day.isoformat(), **metrics, "products": products}, [before, window]


def compute_metrics(now: datetime, deps: Deps) -> dict[str, Any]:
    """Job: the row of the Shanghai day before ``now``, stored (replacing an earlier run's) with
    the windows of that day and the day before, and published as the catalogue's metrics."""
    day = business_date(now) - timedelta(days=1)
    row, windows = compute_row(day, deps)
    deps.analytics.save_day(day, row, {w.day: w.as_dict() for w in windows})
    published = publish(row)
    return {"date": row["date"], "products": len(row["products"]), "published": published}


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
    from aws_lambda_powertools.metrics import EphemeralMetrics

    from chalicelib.observability import NAMESPACE, SERVICE

    at = datetime.combine(date.fromisoformat(row["date"]), time(12), tzinfo=SHANGHAI).astimezone(UTC)
    if not timedelta(0) <= wall_clock() - at <= EMF_MAX_AGE:
        return 0
    emitted = 0
    day = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    day.set_timestamp(at)
    for metric in CATALOGUE:
        if not metric.per_product and row.get(metric.name) is not None:
            day.add_metric(name=metric.name, unit=metric.unit.value, value=row[metric.name])
            emitted += 1
    day.flush_metrics()
    for product in row["products"]:
        one = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        one.set_timestamp(at)
        one.add_dimension(name=PRODUCT_DIMENSION, value=product["product_id"])
        for metric in CATALOGUE:
            if metric.per_product and product.get(metric.name) is not None:
                one.add_metric(name=metric.name, unit=metric.unit.value, value=product[metric.name])
                emitted += 1
        one.flush_metrics()
    return emitted
