"""The analytics table's one PynamoDB model and its raw batch read (store/analytics.py documents
the key prefixes; store/metric_rows.py, experiments.py and recommendations.py build on it)."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.store.base import BaseMeta, StoreModel, TransactionFailed

Key = tuple[str, str]


class AnalyticsItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().analytics_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True)
    v = NumberAttribute(null=True)  # version of a per-entity item
    # generic, for experiments and recommendations
    n = NumberAttribute(null=True)
    score = NumberAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)  # JSON
    # day counters
    page_views = NumberAttribute(null=True)
    product_views = NumberAttribute(null=True)
    shares = NumberAttribute(null=True)
    sessions = NumberAttribute(null=True)
    bounced = NumberAttribute(null=True)  # sessions with exactly one page view
    visitors = NumberAttribute(null=True)
    new_users = NumberAttribute(null=True)
    bindings = NumberAttribute(null=True)
    orders = NumberAttribute(null=True)
    paid_fen = NumberAttribute(null=True)
    paid_cost_fen = NumberAttribute(null=True)
    paying_users = NumberAttribute(null=True)
    repeat_buyers = NumberAttribute(null=True)  # paying users with ≥ 2 paid orders in 30 days
    refunds = NumberAttribute(null=True)
    refunded_fen = NumberAttribute(null=True)
    refunded_cost_fen = NumberAttribute(null=True)
    shipped = NumberAttribute(null=True)
    completed = NumberAttribute(null=True)
    delivered = NumberAttribute(null=True)  # delivered by the carrier on the day (docs/delivery.md)
    delivered_on_time = NumberAttribute(null=True)  # ... within delivery.on_time_hours of payment
    commission_accrued_fen = NumberAttribute(null=True)
    commission_settled_fen = NumberAttribute(null=True)
    withdrawn_fen = NumberAttribute(null=True)
    withdrawals = NumberAttribute(null=True)
    active_distributors = NumberAttribute(null=True)
    dist_month_first = NumberAttribute(null=True)  # distributors whose first activity of the month was today
    dist_retained = NumberAttribute(null=True)  # ... of those, active the month before
    promoted_orders = NumberAttribute(null=True)  # paid orders that took a promotion (domain/promotion_metrics.py)
    promoted_paid_fen = NumberAttribute(null=True)  # ... what they paid
    promotion_discount_fen = NumberAttribute(null=True)  # what promotions gave away on the day's paid orders
    nuc0 = NumberAttribute(null=True)  # first payments today by users registered k days before (k = 0..6)
    nuc1 = NumberAttribute(null=True)
    nuc2 = NumberAttribute(null=True)
    nuc3 = NumberAttribute(null=True)
    nuc4 = NumberAttribute(null=True)
    nuc5 = NumberAttribute(null=True)
    nuc6 = NumberAttribute(null=True)
    # product counters
    views = NumberAttribute(null=True)
    units = NumberAttribute(null=True)
    # per-entity state
    pages = NumberAttribute(null=True)
    registered_day = UnicodeAttribute(null=True)
    first_paid_day = UnicodeAttribute(null=True)
    pay_day = UnicodeAttribute(null=True)
    pay_n = NumberAttribute(null=True)
    prev_pay_day = UnicodeAttribute(null=True)
    active_day = UnicodeAttribute(null=True)
    active_month = UnicodeAttribute(null=True)
    prev_active_month = UnicodeAttribute(null=True)


def batch_get(keys: list[Key], consistent: bool) -> list[dict[str, Any]]:
    """Raw items of ``keys`` (BatchGetItem, 100 keys a call, unprocessed keys retried)."""
    client = AnalyticsItem._get_connection().connection.client
    table = AnalyticsItem.Meta.table_name
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in
                                                    keys[start:start + 100]], "ConsistentRead": consistent}}
        for _ in range(10):
            answer = client.batch_get_item(RequestItems=request)
            found += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise TransactionFailed(["Throttled"])
    return found
