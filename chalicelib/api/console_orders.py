"""The console's orders: the list with its filters (the services and schemas of
``GET /v1/admin/orders``, so the console and the API answer alike)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import fulfilment_schemas as s
    from chalicelib.domain import fulfilment as rules
    from chalicelib.domain import orders as order_rules
    from chalicelib.services import fulfilment
else:
    s = lazy("chalicelib.api.fulfilment_schemas")
    fulfilment = lazy("chalicelib.services.fulfilment")
    rules, order_rules = lazy("chalicelib.domain.fulfilment"), lazy("chalicelib.domain.orders")

bp = Blueprint(__name__)
STATUSES = (("", "全部"), ("pending_payment", "待付款"), ("paid", "待发货"), ("shipped", "已发货"),
            ("completed", "已完成"), ("cancelled", "已取消"), ("refunded", "已退款"))
FILTERS = ("status", "from", "to", "buyer_id", "distributor_id", "next")


@page(bp, "/console/orders")
def orders(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in FILTERS and v}
    q = validate(s.AdminOrdersQuery, given)
    f = fulfilment.OrderFilter(
        status=order_rules.OrderStatus(q.status) if q.status else None,
        start=rules.parse_day(q.from_, "from"), end=rules.parse_day(q.to, "to"),
        buyer_id=q.buyer_id, distributor_id=q.distributor_id, shipping_report=None)
    if f.start and f.end:
        rules.day_range(f.start, f.end, f.end)
    items, next_cursor = fulfilment.list_orders(f, 50, q.next, call.deps)
    rows = [s.AdminOrderOut.admin(o).model_dump() for o in items]
    return call.render("orders.html", rows=rows, next=next_cursor, filters=given, statuses=dict(STATUSES),
                       status_options=STATUSES)
