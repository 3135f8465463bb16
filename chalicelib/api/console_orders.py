"""The console's orders: the list with its filters, an order's page and shipping it, and
shipping many by CSV (a preview, then per-line results). The services and schemas are the API's
(``GET /v1/admin/orders``, ``POST /v1/admin/orders/{id}/ship``, ``POST /v1/admin/orders/ship``),
so the console and the API answer alike."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.domain.errors import ValidationFailed
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import fulfilment_schemas as s
    from chalicelib.domain import fulfilment as rules
    from chalicelib.domain import orders as order_rules
    from chalicelib.domain import shipment_csv
    from chalicelib.services import console_shipments, fulfilment
    from chalicelib.services import orders as orders_service
else:
    s = lazy("chalicelib.api.fulfilment_schemas")
    fulfilment, orders_service = lazy("chalicelib.services.fulfilment"), lazy("chalicelib.services.orders")
    console_shipments, shipment_csv = lazy("chalicelib.services.console_shipments"), lazy("chalicelib.domain.shipment_csv")
    rules, order_rules = lazy("chalicelib.domain.fulfilment"), lazy("chalicelib.domain.orders")

bp = Blueprint(__name__)
STATUSES = (("", "全部"), ("pending_payment", "待付款"), ("paid", "待发货"), ("shipped", "已发货"),
            ("completed", "已完成"), ("cancelled", "已取消"), ("refunded", "已退款"))
FILTERS = ("status", "from", "to", "buyer_id", "distributor_id", "shipping_report", "next")
REPORTS = (("", "全部"), ("pending", "待上报微信"), ("failed", "上报失败"))


@page(bp, "/console/orders")
def orders(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in FILTERS and v}
    q = validate(s.AdminOrdersQuery, given)
    f = fulfilment.OrderFilter(
        status=order_rules.OrderStatus(q.status) if q.status else None,
        start=rules.parse_day(q.from_, "from"), end=rules.parse_day(q.to, "to"),
        buyer_id=q.buyer_id, distributor_id=q.distributor_id,
        shipping_report=rules.ReportState(q.shipping_report) if q.shipping_report else None)
    if f.start and f.end:
        rules.day_range(f.start, f.end, f.end)
    items, next_cursor = fulfilment.list_orders(f, 50, q.next, call.deps)
    rows = [s.AdminOrderOut.admin(o).model_dump() for o in items]
    return call.render("orders.html", rows=rows, next=next_cursor, filters=given, statuses=dict(STATUSES),
                       status_options=STATUSES, report_options=REPORTS)


@page(bp, "/console/orders/{order_id}")
def order_detail(call: PageCall) -> Response:
    order = call.deps.orders.get(call.params["order_id"])
    if order is None:
        raise orders_service.OrderNotFound("no such order")
    carriers = [(wechat_id, names[0]) for wechat_id, names in rules.CARRIERS.items()]
    return call.render("order.html", o=s.AdminOrderOut.admin(order).model_dump(), statuses=dict(STATUSES),
                       carriers=carriers, done=call.query.get("done", ""))


@page(bp, "/console/orders/{order_id}/ship", ("POST",))
def ship_one(call: PageCall) -> Response:
    """The single ship route's use case (``orders.ship``): audited, reported to WeChat."""
    order_id = call.params["order_id"]
    orders_service.ship(order_id, call.form.get("carrier").strip(), call.form.get("tracking_no").strip(), call.deps,
                        call.admin_id)
    return call.redirect(f"/console/orders/{quote(order_id, safe='')}?done=shipped")


@page(bp, "/console/shipments")
def shipments_form(call: PageCall) -> Response:
    return call.render("shipments.html", carriers=sorted(rules.CARRIERS))


def _csv(call: PageCall) -> tuple[str, list[shipment_csv.CsvLine]]:
    """The file's text (uploaded, or pasted / sent back by the preview) and its lines."""
    upload = call.form.files.get("file")
    if upload is not None and upload.data:
        try:
            text = upload.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("the file is not UTF-8: save it as CSV UTF-8") from exc
    else:
        text = call.form.get("csv")
    return text, shipment_csv.parse_shipments(text)


@page(bp, "/console/shipments/preview", ("POST",))
def shipments_preview(call: PageCall) -> Response:
    """What each line would do; nothing is written. The confirm form sends the same text back."""
    text, lines = _csv(call)
    rows = console_shipments.preview(lines, call.deps)
    return call.render("shipments_preview.html", rows=rows, csv=text, statuses=dict(STATUSES),
                       shippable=sum(1 for r in rows if r.problem is None))


@page(bp, "/console/shipments", ("POST",))
def shipments_ship(call: PageCall) -> Response:
    results = console_shipments.ship(_csv(call)[1], call.admin_id, call.deps)
    return call.render("shipments_results.html", results=results, statuses=dict(STATUSES),
                       shipped=sum(1 for r in results if r.problem is None))
