"""THE list of daily metrics: every field of a stored daily row, every CloudWatch metric the
``compute_metrics`` job publishes (Powertools EMF, namespace Fenxiao), every widget of the ops
dashboard and every metric alarm are generated from ``CATALOGUE``. A metric missing here cannot
be stored, published or charted; a test checks that the stored row and this list name the same
fields (docs/metrics.md).

Names are the field names of ``GET /v1/admin/metrics`` (API.md). Money is fen (``_fen``), rates
basis points (``_bp``): integers, never floats. Day metrics are one value per Asia/Shanghai day;
per-product metrics (``per_product``) are one value per product and day, found in the row's
``products`` list and published with a ``product_id`` dimension.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    """Dashboard sections, in display order."""

    SALES = "sales"
    TRAFFIC = "traffic"
    USERS = "users"
    DISTRIBUTION = "distribution"
    FULFILMENT = "fulfilment"
    PRODUCTS = "products"


class Unit(StrEnum):
    """CloudWatch / Powertools metric units used here (fen, bp and days have no CloudWatch unit)."""

    COUNT = "Count"
    NONE = "None"


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm on a metric's daily value: ``comparison`` is a CloudWatch
    ComparisonOperator, ``threshold`` in the metric's own unit (fen, bp, count)."""

    comparison: str
    threshold: int
    why: str


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    group: Group
    definition: str
    per_product: bool = False
    alarm: Alarm | None = None


def _day(name: str, unit: Unit, group: Group, definition: str, alarm: Alarm | None = None) -> Metric:
    return Metric(name, unit, group, definition, alarm=alarm)


def _product(name: str, unit: Unit, definition: str) -> Metric:
    return Metric(name, unit, Group.PRODUCTS, definition, per_product=True)


C, N = Unit.COUNT, Unit.NONE
S, T, U, D, F = Group.SALES, Group.TRAFFIC, Group.USERS, Group.DISTRIBUTION, Group.FULFILMENT

CONVERSION_DROP = Alarm("LessThanThreshold", -200,
                        "conversion fell more than 2 percentage points below the mean of the 7 days before")

CATALOGUE: tuple[Metric, ...] = (
    _day("gmv_fen", N, S, "amount paid on the day minus amount refunded on the day, fen"),
    _day("orders", C, S, "orders paid on the day"),
    _day("paying_users", C, S, "distinct buyers who paid at least one order on the day"),
    _day("avg_order_value_fen", N, S, "amount paid on the day / orders paid on the day, floored to the fen"),
    _day("promoted_orders", C, S, "orders paid on the day that took at least one promotion (docs/promotions.md)"),
    _day("promotion_discount_fen", N, S,
         "what promotions gave away on the orders paid on the day (discounts and the gifts' cost), fen"),
    _day("avg_order_value_promoted_fen", N, S,
         "amount paid / orders paid on the day, of the orders that took a promotion, floored to the fen"),
    _day("avg_order_value_unpromoted_fen", N, S,
         "amount paid / orders paid on the day, of the orders that took none, floored to the fen"),
    _day("refunds", C, S, "orders refunded on the day"),
    _day("refunded_fen", N, S, "amount refunded on the day, fen"),
    _day("gross_margin_bp", N, S, "(net sales − net cost of goods) / net sales of the day, net = paid − refunded"),
    _day("visitors", C, T,
         "distinct users who logged in, made an authenticated request, sent an event or paid on the day (UV)"),
    _day("page_views", C, T, "page_view events on the day (PV)"),
    _day("product_views", C, T, "product_view events on the day"),
    _day("shares", C, T, "share events on the day"),
    _day("sessions", C, T, "distinct sessions with at least one page view on the day"),
    _day("bounce_rate_bp", N, T, "sessions with exactly one page view / sessions, of the day"),
    _day("conversion_bp", N, T, "paying users / visitors, of the day"),
    _day("conversion_vs_7day_mean_bp", N, T,
         "conversion_bp of the day minus the mean conversion_bp of the 7 days before (days with visitors)",
         alarm=CONVERSION_DROP),
    _day("new_users", C, U, "users who logged in for the first time on the day"),
    _day("new_user_conversion_bp", N, U,
         "of the users registered in the 7 days ending with the day, the share who paid by its end"),
    _day("repurchase_rate_bp", N, U,
         "of the day's paying users, the share with at least 2 paid orders in the 30 days ending with the day"),
    _day("bindings", C, U, "users bound to a distributor on the day"),
    _day("active_distributors", C, D, "distinct distributors credited with a commission on the day"),
    _day("distributor_retention_bp", N, D,
         "of the distributors active in the previous calendar month, the share active this month up to the day"),
    _day("commission_accrued_fen", N, D, "commission accrued by orders paid on the day, fen"),
    _day("commission_settled_fen", N, D, "commission settled (made withdrawable) on the day, fen"),
    _day("withdrawn_fen", N, D, "withdrawals paid out on the day, fen"),
    _day("shipped_orders", C, F, "orders shipped on the day"),
    _day("completed_orders", C, F, "orders completed (receipt confirmed, by the buyer or automatically) on the day"),
    _day("delivered_orders", C, F, "orders the carrier delivered on the day (docs/delivery.md)"),
    _day("on_time_delivery_bp", N, F,
         "of the orders delivered on the day, the share delivered within 48 hours (delivery.on_time_hours) of payment"),
    _product("units_sold", C, "units of the product in orders paid on the day"),
    _product("views", C, "product_view events of the product on the day"),
    _product("inventory_turnover_days", N,
             "stock after the day / units sold on the day, rounded up (days of cover; target ≤ 7 for hot items); "
             "absent when nothing sold"),
    _product("sell_through_bp", N, "units sold on the day / (units sold on the day + stock after the day)"),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in CATALOGUE}
DAY_METRICS: tuple[str, ...] = tuple(m.name for m in CATALOGUE if not m.per_product)
PRODUCT_METRICS: tuple[str, ...] = tuple(m.name for m in CATALOGUE if m.per_product)
ALARMED: tuple[Metric, ...] = tuple(m for m in CATALOGUE if m.alarm is not None)
PRODUCT_DIMENSION = "product_id"
