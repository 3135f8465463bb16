"""The console's "ship many by CSV": a preview of what each line would do, then the shipment
through ``fulfilment.ship_batch`` (the batch route's own use case: each line its own transaction,
audit entry and WeChat report). The preview decides nothing itself: it asks the domain's rules
that ``orders.ship`` asks (the carrier, the tracking number, the status transition)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.errors import DomainError
from chalicelib.domain.fulfilment import AlreadyShipped, check_tracking_no, delivery_id
from chalicelib.domain.orders import OrderStatus, check_transition
from chalicelib.domain.shipment_csv import CsvLine

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class Preview:
    line: CsvLine
    status: str | None  # the order's status now (None: no such order)
    delivery_id: str | None  # the carrier as WeChat knows it
    problem: str | None  # the code the line would be refused with; None: it ships
    message: str = ""


@dataclass(frozen=True)
class Result:
    line: CsvLine
    status: str | None = None
    problem: str | None = None
    message: str = ""


def preview(lines: list[CsvLine], deps: Deps) -> list[Preview]:
    seen: set[str] = set()
    return [_preview(line, seen, deps) for line in lines]


def _preview(line: CsvLine, seen: set[str], deps: Deps) -> Preview:
    """In the order ``ship_batch`` and ``orders.ship`` check: duplicate, tracking number,
    carrier, order, shipped already, status."""
    if line.problem:
        return Preview(line, None, None, line.problem, "a line is: order id, carrier, tracking number")
    if line.order_id in seen:
        return Preview(line, None, None, "DUPLICATE_LINE", "this order is on an earlier line")
    seen.add(line.order_id)
    order, wechat_id = None, None
    try:
        check_tracking_no(line.tracking_no)
        wechat_id = delivery_id(line.carrier)
        order = deps.orders.get(line.order_id)
        if order is None:
            return Preview(line, None, wechat_id, "ORDER_NOT_FOUND", "no such order")
        if order.shipped_at is not None and (order.carrier, order.tracking_no) == (wechat_id, line.tracking_no):
            return Preview(line, order.status.value, wechat_id, None, "shipped already with this number: no change")
        if order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
            raise AlreadyShipped("shipped already with another carrier or tracking number")
        check_transition(order.status, OrderStatus.SHIPPED)
    except DomainError as exc:
        return Preview(line, order.status.value if order else None, wechat_id, exc.code, exc.message)
    return Preview(line, order.status.value, wechat_id, None)


def ship(lines: list[CsvLine], actor_id: str, deps: Deps) -> list[Result]:
    """Ship the well-formed lines as one batch; every line gets its result, in file order."""
    from chalicelib.services.fulfilment import ship_batch

    good = [line for line in lines if not line.problem]
    shipped = iter(ship_batch([(x.order_id, x.carrier, x.tracking_no) for x in good], actor_id, deps))
    results = []
    for line in lines:
        if line.problem:
            results.append(Result(line, problem=line.problem, message="a line is: order id, carrier, tracking number"))
            continue
        r = next(shipped)
        if r.error is not None:
            results.append(Result(line, problem=r.error.code, message=r.error.message))
        else:
            results.append(Result(line, status=r.order.status.value if r.order else None))
    return results
