"""The operator's orders: the list with its filters, and batch shipping (API.md v1.1)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.fulfilment_schemas"
if TYPE_CHECKING:
    from chalicelib.api import fulfilment_schemas as s
    from chalicelib.domain import fulfilment as rules
    from chalicelib.domain import orders as order_rules
    from chalicelib.services import delivery, fulfilment
else:
    s = lazy(M)
    fulfilment, delivery = lazy("chalicelib.services.fulfilment"), lazy("chalicelib.services.delivery")
    rules, order_rules = lazy("chalicelib.domain.fulfilment"), lazy("chalicelib.domain.orders")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/orders", auth="admin", tag="orders", models=M, query="AdminOrdersQuery",
          response="AdminOrdersPage",
          summary="Every order, newest first, filtered by status, Shanghai days (from/to, inclusive, ≤ 92 days), "
                  "buyer, distributor (level-1 or level-2 payee) and shipping report (pending/failed); a page "
                  "reads at most 64 index partitions and may come back short with a cursor",
          errors=("INVALID_DATE_RANGE", "INVALID_CURSOR"))
def admin_orders(call: Call) -> s.AdminOrdersPage:
    q = call.query
    f = fulfilment.OrderFilter(
        status=order_rules.OrderStatus(q.status) if q.status else None,
        start=rules.parse_day(q.from_, "from"), end=rules.parse_day(q.to, "to"),
        buyer_id=q.buyer_id, distributor_id=q.distributor_id,
        shipping_report=rules.ReportState(q.shipping_report) if q.shipping_report else None)
    if f.start and f.end:
        rules.day_range(f.start, f.end, f.end)  # from ≤ to and ≤ 92 days, whichever index answers
    items, next_cursor = fulfilment.list_orders(f, q.limit, q.next, call.deps)
    tracked = delivery.order_trackings(items, call.deps)
    return s.AdminOrdersPage(items=[s.AdminOrderOut.admin(o, tracked.get(o.order_id)) for o in items],
                             next=next_cursor)


@endpoint(bp, "/v1/admin/orders/ship", "POST", auth="admin", tag="orders", models=M, body="ShipBatchBody",
          response="ShipBatchAnswer",
          summary="Ship up to 100 orders; each line is its own transaction (with its audit entry and WeChat "
                  "shipping report) and succeeds or fails on its own: ORDER_NOT_FOUND, WRONG_ORDER_STATUS, "
                  "ALREADY_SHIPPED, DUPLICATE_LINE, INVALID_CARRIER, INVALID_TRACKING_NO per line",
          errors=())
def ship_batch(call: Call) -> s.ShipBatchAnswer:
    lines = [(x.order_id, x.carrier, x.tracking_no) for x in call.body.shipments]
    results = []
    for r in fulfilment.ship_batch(lines, call.user_id, call.deps):
        if r.error is not None:
            results.append(s.ShipResultOut(order_id=r.order_id,
                                           error=s.LineErrorOut(code=r.error.code, message=r.error.message)))
        elif r.order is not None:
            report = r.order.shipping_report
            results.append(s.ShipResultOut(order_id=r.order_id, status=r.order.status.value,
                                           shipping_report=report.state.value if report else None))
    return s.ShipBatchAnswer(results=results)
