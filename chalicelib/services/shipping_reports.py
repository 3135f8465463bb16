"""WeChat's shipping information rule (发货信息管理): each shipment reported with
``upload_shipping_info`` after its ship transaction commits, and the ``report_shipments`` job
(every 10 minutes) trying the pending ones again until WeChat takes them or ``MAX_ATTEMPTS``
give up (an ERROR log and the ``shipping_report_failed`` metric, alarmed). docs/orders.md "The
shipping information rule".
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.fulfilment import (
    ReportState,
    Shipment,
    ShippingReport,
    Verdict,
    after_attempt,
    item_desc,
    mask_phone,
)
from chalicelib.domain.invariants import holds
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.services.due import Deadline


def shipment_of(order: Order, openid: str) -> Shipment:
    address = order.address or {}
    return Shipment(out_trade_no=order.order_id, openid=openid, delivery_id=order.carrier or "",
                    tracking_no=order.tracking_no or "",
                    item_desc=item_desc((line.name, line.quantity) for line in order.lines),
                    receiver_contact=mask_phone(address.get("phone")),
                    shipped_at=order.shipped_at or order.created_at)


REFUNDED_FIRST = "refunded before WeChat took its report: none is due (no alarm)"


def report_shipment(order: Order, deps: Deps) -> tuple[str, ShippingReport | None]:
    """One attempt at WeChat's shipping report of a shipped order whose report is pending:
    ``reported``, ``retry`` (still pending, due later), ``failed`` (given up: alarmed) or
    ``skipped`` (not pending, or another reporter recorded first), with the report as recorded
    (None when skipped)."""
    from chalicelib.wechat.shipping import missing_contact

    report = order.shipping_report
    if report is None or report.state is not ReportState.PENDING:
        return "skipped", None
    if order.status is OrderStatus.REFUNDED:  # WeChat refuses a refunded payment's report (10060004): none is due
        after = ShippingReport(ReportState.FAILED, report.attempts, REFUNDED_FIRST)
        return ("skipped", after) if deps.orders.record_report(order.order_id, after, report.attempts) \
            else ("skipped", None)
    now = deps.clock()
    buyer = deps.users.get(order.buyer_id)
    shipment = shipment_of(order, buyer.openid if buyer else "")
    said: str | None
    if missing_contact(shipment):
        verdict, said = Verdict.REFUSED, f"{shipment.delivery_id} needs the receiver's phone (contact)"
    else:
        try:
            verdict, said = deps.shipping.upload(shipment, now)
        except Unavailable as exc:
            verdict, said = Verdict.RETRY, exc.message
    after = after_attempt(report, verdict, said, now)
    if not deps.orders.record_report(order.order_id, after, report.attempts):
        return "skipped", None
    outcome = {ReportState.REPORTED: "reported", ReportState.FAILED: "failed"}.get(after.state, "retry")
    _observe(outcome, order.order_id, after.attempts, said)
    return outcome, after


def _observe(outcome: str, order_id: str, attempts: int, said: str | None) -> None:
    from chalicelib.observability import logger, metrics

    metrics().add_metric(name=f"shipping_report_{outcome}", unit="Count", value=1)
    if outcome == "failed":
        logger().error("shipping report given up: report it in the mini-program's 发货信息管理",
                       extra={"order_id": order_id, "attempts": attempts, "wechat": said})
    elif outcome == "retry":
        logger().warning("shipping report deferred", extra={"order_id": order_id, "attempts": attempts,
                                                            "wechat": said})


REPORT_PAGE = 25


def report_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``report_shipments`` (every 10 minutes): a part per shard of the pending reports."""
    return list(SHARDS)


def report_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """Job ``report_shipments``, one slice of a shard: each pending report due by ``now`` tried
    once more (``report_shipment``). Run twice, a report is recorded once (conditioned on the
    attempts read)."""
    holds(part in SHARDS, f"a report part is a shard ({part!r})")
    counts = {"reported": 0, "retry": 0, "failed": 0, "skipped": 0}
    while True:
        due, cursor = deps.orders.due_reports(part, now, cursor, REPORT_PAGE)
        for order in deps.orders.get_many(due).values():
            counts[report_shipment(order, deps)[0]] += 1
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)
