"""Daily metric rows of the shape of ``GET /v1/admin/metrics`` (API.md), made up by hand so that
the board's figures can be checked by hand: day ``i`` (0 = the first) has 100 + 10·i visitors,
i + 1 orders of 100 yuan, and so on."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

HOSTILE = '</script><script>alert("x")</script>&amp;'


def sample_row(day: date, i: int) -> dict[str, Any]:
    orders = i + 1
    return {
        "date": day.isoformat(), "gmv_fen": orders * 10_000, "orders": orders, "paying_users": orders,
        "avg_order_value_fen": 10_000, "refunds": 0, "refunded_fen": 0, "gross_margin_bp": 4000,
        "visitors": 100 + 10 * i, "page_views": 300 + 30 * i, "product_views": 50, "shares": 5,
        "sessions": 120, "bounce_rate_bp": 5000 - 50 * i, "conversion_bp": 100 + i,
        "conversion_vs_7day_mean_bp": 3, "new_users": 10, "new_user_conversion_bp": 800 + 20 * i,
        "repurchase_rate_bp": 1000, "bindings": 2, "active_distributors": 20 + i,
        "distributor_retention_bp": 3000 + 50 * i, "commission_accrued_fen": orders * 1000,
        "commission_settled_fen": 500, "withdrawn_fen": 0, "shipped_orders": orders,
        "completed_orders": orders, "delivered_orders": orders, "on_time_delivery_bp": 9500,
        # one order a day takes the bundle (and pays 100 yuan like the others)
        "promoted_orders": 1, "promotion_discount_fen": 2_000, "avg_order_value_promoted_fen": 10_000,
        "avg_order_value_unpromoted_fen": 10_000 if i else 0,
        "promotions": [
            {"promotion_id": "pb", "title": HOSTILE, "kind": "bundle", "redemptions": 1, "orders": 1,
             "gmv_fen": 10_000, "discount_fen": 2_000, "avg_order_value_fen": 10_000,
             "avg_order_value_without_fen": 10_000 if i else 0},
        ],
        "products": [
            {"product_id": "p-mask", "name": "Hydrating face mask 补水面膜", "units_sold": 2 * orders, "views": 30,
             "inventory_turnover_days": 5, "sell_through_bp": 6000},
            {"product_id": "p-tea", "name": "Health tea 养生茶", "units_sold": 1, "views": 15, "inventory_turnover_days": 40,
             "sell_through_bp": 3500},
            {"product_id": "p-odd", "name": HOSTILE, "units_sold": 0, "views": 1, "sell_through_bp": 0},
        ],
    }


def sample_rows(from_day: date, to_day: date, skip: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """A row for each day of the period except the ``skip`` offsets (days the job did not compute)."""
    span = (to_day - from_day).days + 1
    return [sample_row(from_day + timedelta(days=i), i) for i in range(span) if i not in skip]
