"""Request and answer models of the after-sales routes (API.md v1.1 "After-sales",
docs/after-sales.md). Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.api.order_schemas import TrackingOut
from chalicelib.domain.after_sales import MAX_PHOTOS, MAX_REASON, Case, CaseStatus
from chalicelib.domain.clock import iso
from chalicelib.domain.fulfilment import TRACKING_NO_PATTERN
from chalicelib.domain.tracking import Tracking


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CaseLineIn(_In):
    product_id: Id
    sku_id: Id | None = None
    quantity: int = Field(ge=1, le=99)


class OpenCaseBody(_In):
    kind: Literal["refund_only", "return_refund"]
    lines: list[CaseLineIn] = Field(min_length=1, max_length=20)
    reason: Reason
    photos: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=MAX_PHOTOS,
        description="image URLs of POST /v1/uploads (purpose after_sales_photo): ours and uploaded, else 422 "
                    "IMAGE_NOT_OURS / IMAGE_NOT_UPLOADED / IMAGE_INVALID")


class ReturnBody(_In):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    tracking_no: Annotated[str, StringConstraints(strip_whitespace=True, pattern=TRACKING_NO_PATTERN)]


class ApproveBody(_In):
    refund_fen: int | None = Field(default=None, ge=1, description="default: what the case's lines were paid")


class RejectBody(_In):
    reason: Reason


class CasesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class QueueQuery(CasesQuery):
    status: str | None = Field(default=None, pattern="^(" + "|".join(s.value for s in CaseStatus) + ")$",
                               description="default: every open case (requested, approved, awaiting_return, "
                                           "returning)")


class CaseLineOut(_Out):
    product_id: str
    sku_id: str | None
    quantity: int
    unit_price_fen: int
    paid_fen: int


class CaseOut(_Out):
    case_id: str
    order_id: str
    buyer_id: str
    kind: str
    status: str
    lines: list[CaseLineOut]
    reason: str
    photos: list[str]
    requested_fen: int = Field(description="what the lines were paid: the most an approval refunds")
    refund_fen: int = Field(description="the refund: the approved amount once approved, else requested_fen")
    created_at: str
    decided_at: str | None
    decided_by: str | None = Field(description="the admin who approved or rejected it")
    reject_reason: str | None
    return_carrier: str | None = Field(description="the return's carrier (its WeChat delivery id)")
    return_tracking_no: str | None
    returned_at: str | None
    received_at: str | None = Field(description="the operator received the goods (the refund follows)")
    refunded_at: str | None
    cancelled_at: str | None

    @classmethod
    def of(cls, c: Case) -> CaseOut:
        def t(value: object) -> str | None:
            return iso(value) if value else None  # type: ignore[arg-type]
        return cls(case_id=c.case_id, order_id=c.order_id, buyer_id=c.buyer_id, kind=c.kind.value,
                   status=c.status.value,
                   lines=[CaseLineOut(product_id=x.product_id, sku_id=x.sku_id, quantity=x.quantity,
                                      unit_price_fen=x.unit_price_fen, paid_fen=x.paid_fen) for x in c.lines],
                   reason=c.reason, photos=list(c.photos), requested_fen=c.lines_paid_fen,
                   refund_fen=c.refund_fen if c.refund_fen is not None else c.lines_paid_fen,
                   created_at=iso(c.created_at), decided_at=t(c.decided_at), decided_by=c.decided_by,
                   reject_reason=c.reject_reason, return_carrier=c.return_carrier,
                   return_tracking_no=c.return_tracking_no, returned_at=t(c.returned_at),
                   received_at=t(c.received_at), refunded_at=t(c.refunded_at), cancelled_at=t(c.cancelled_at))


class CaseDetailOut(CaseOut):
    return_tracking: TrackingOut | None = Field(
        description="the return parcel's carrier tracking (快递100), once the buyer shipped it; its state "
                    "'delivered' means the goods reached the mall: receive them (null: none)")

    @classmethod
    def detail(cls, c: Case, tracking: Tracking | None) -> CaseDetailOut:
        return cls(**CaseOut.of(c).model_dump(), return_tracking=TrackingOut.of(tracking))


class CasesPage(_Out):
    items: list[CaseOut]
    next: str | None


class OrderCasesOut(_Out):
    items: list[CaseOut]
