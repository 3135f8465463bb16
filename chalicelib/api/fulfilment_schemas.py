"""The operator's order list and batch shipping (API.md v1.1 "Orders and fulfilment")."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.api.order_schemas import OrderOut, ShipBody
from chalicelib.domain.clock import iso
from chalicelib.domain.fulfilment import MAX_BATCH, ShippingReport
from chalicelib.domain.orders import Order
from chalicelib.domain.tracking import Tracking


class AdminOrdersQuery(BaseModel):
    """Filters combine (AND). ``from``/``to``: Shanghai days, inclusive (default: the 92 days to
    today when no buyer, distributor or shipping_report filter bounds the list)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)
    status: str | None = Field(default=None, pattern="^(pending_payment|paid|shipped|completed|cancelled|refunded)$")
    from_: str | None = Field(default=None, alias="from", max_length=10)
    to: str | None = Field(default=None, max_length=10)
    buyer_id: str | None = Field(default=None, min_length=1, max_length=64)
    distributor_id: str | None = Field(default=None, min_length=1, max_length=64,
                                       description="the order's level-1 or level-2 payee")
    shipping_report: str | None = Field(default=None, pattern="^(pending|failed)$")
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=4096)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ShippingReportOut(_Out):
    """WeChat's shipping report of the order (发货信息管理): pending (the job tries again),
    reported, or failed (given up: report it by hand in the mini-program's admin)."""

    state: str
    attempts: int
    last_error: str | None
    reported_at: str | None
    next_attempt_at: str | None

    @classmethod
    def of(cls, report: ShippingReport | None) -> ShippingReportOut | None:
        if report is None:
            return None
        return cls(state=report.state.value, attempts=report.attempts, last_error=report.last_error,
                   reported_at=iso(report.reported_at) if report.reported_at else None,
                   next_attempt_at=iso(report.due_at) if report.due_at else None)


class AdminOrderOut(OrderOut):
    """``GET /v1/orders/{id}``'s order, with its buyer and its shipping report (null: not shipped)."""

    buyer_id: str
    shipping_report: ShippingReportOut | None

    @classmethod
    def admin(cls, o: Order, tracking: Tracking | None = None) -> AdminOrderOut:
        return cls(**OrderOut.of(o, tracking=tracking).model_dump(), buyer_id=o.buyer_id,
                   shipping_report=ShippingReportOut.of(o.shipping_report))


class AdminOrdersPage(_Out):
    items: list[AdminOrderOut]
    next: str | None


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ShipmentIn(BaseModel):
    """A line: checked on its own (a bad carrier or tracking number refuses this line only)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    order_id: Text
    carrier: Text
    tracking_no: Text


class ShipBatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    shipments: Annotated[list[ShipmentIn], Field(min_length=1, max_length=MAX_BATCH)]


class LineErrorOut(_Out):
    code: str
    message: str


class ShipResultOut(_Out):
    """Either ``status`` (the order's, shipped or later) with its ``shipping_report`` state, or ``error``."""

    order_id: str
    status: str | None = None
    shipping_report: str | None = None
    error: LineErrorOut | None = None


class ShipBatchAnswer(_Out):
    results: list[ShipResultOut]


__all__ = ["ShipBody"]  # the single ship route's body (api/orders.py), declared with the order schemas
