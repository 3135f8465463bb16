"""After-sales (售后) cases: a closed set of statuses with one transition map, the window, the
lines a case may claim and the amount an approval may refund (docs/after-sales.md).

After shipment every refund goes through a case (DOMAIN.md §9): the buyer opens one on a
shipped or completed order, within ``window_days`` of receipt, for chosen lines and quantities;
the operator approves (refund only: the money goes back; return then refund: the buyer ships the
goods back first), rejects with a reason, or receives the returned goods (the money goes back).
One case is open per order at a time. Pure: no I/O.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import DomainError, Kind, error
from chalicelib.domain.orders import Order, OrderStatus, WrongOrderStatus, id_shard
from chalicelib.domain.refunds import RefundExceedsPaid, RefundLine, check_lines, lines_paid_fen

CaseNotFound = error("CASE_NOT_FOUND", Kind.NOT_FOUND, "No such after-sales case (or not yours).")
CaseOpen = error("CASE_OPEN", Kind.CONFLICT, "The order has an after-sales case open already.")
WindowClosed = error("AFTER_SALES_WINDOW_CLOSED", Kind.CONFLICT,
                     "The after-sales window of the order closed (days after receipt, a setting).")
PhotoLimit = error("TOO_MANY_PHOTOS", Kind.INVALID, "A case carries at most MAX_PHOTOS photos.")

MAX_PHOTOS = 9
MAX_REASON = 500


class CaseKind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_REFUND = "return_refund"


class CaseStatus(StrEnum):
    REQUESTED = "requested"  # the buyer asked; the operator decides
    APPROVED = "approved"  # refund only, approved: its refund is under way (a moment, or until retried)
    AWAITING_RETURN = "awaiting_return"  # return then refund, approved: the buyer ships the goods back
    RETURNING = "returning"  # the buyer gave the return's carrier and tracking number
    REFUNDED = "refunded"  # the money went back (closed)
    REJECTED = "rejected"  # the operator refused, with a reason (closed)
    CANCELLED = "cancelled"  # the buyer withdrew it before a decision (closed)


TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.REQUESTED: frozenset({CaseStatus.APPROVED, CaseStatus.AWAITING_RETURN, CaseStatus.REJECTED,
                                     CaseStatus.CANCELLED}),
    CaseStatus.APPROVED: frozenset({CaseStatus.REFUNDED}),
    # a return that never comes back, or not as agreed, may be rejected until the goods are received
    CaseStatus.AWAITING_RETURN: frozenset({CaseStatus.RETURNING, CaseStatus.REFUNDED, CaseStatus.REJECTED}),
    CaseStatus.RETURNING: frozenset({CaseStatus.REFUNDED, CaseStatus.REJECTED}),
    CaseStatus.REFUNDED: frozenset(),
    CaseStatus.REJECTED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}
CLOSED = frozenset({CaseStatus.REFUNDED, CaseStatus.REJECTED, CaseStatus.CANCELLED})
# What the operator's queue shows without a status filter: the cases waiting for someone.
OPEN = (CaseStatus.REQUESTED, CaseStatus.APPROVED, CaseStatus.AWAITING_RETURN, CaseStatus.RETURNING)


class WrongCaseStatus(DomainError):
    code = "WRONG_CASE_STATUS"
    kind = Kind.CONFLICT


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise unless ``current → target`` is an allowed transition."""
    if target not in TRANSITIONS[current]:
        raise WrongCaseStatus(f"a case that is {current.value} cannot become {target.value}", status=current.value)


def approval_target(kind: CaseKind) -> CaseStatus:
    """Where an approval moves a requested case: refund only → approved (then refunded at once);
    return then refund → awaiting the buyer's return."""
    return CaseStatus.APPROVED if kind is CaseKind.REFUND_ONLY else CaseStatus.AWAITING_RETURN


@dataclass(frozen=True)
class CaseLine:
    """A claimed line: the order line's product (and SKU), how many units, at what unit price."""

    product_id: str
    quantity: int
    unit_price_fen: int
    sku_id: str | None = None
    # what these units were paid after promotions (``Line.paid_between``); None: a case opened
    # before promotions existed, whose lines were paid their unit price
    units_paid_fen: int | None = None

    @property
    def paid_fen(self) -> int:
        return self.unit_price_fen * self.quantity if self.units_paid_fen is None else self.units_paid_fen


@dataclass(frozen=True)
class Case:
    case_id: str
    order_id: str
    buyer_id: str
    kind: CaseKind
    status: CaseStatus
    lines: tuple[CaseLine, ...]
    reason: str
    created_at: datetime
    photos: tuple[str, ...] = ()
    refund_fen: int | None = None  # decided at approval (default: the lines' paid amount)
    decided_at: datetime | None = None
    decided_by: str | None = None
    reject_reason: str | None = None
    return_carrier: str | None = None
    return_tracking_no: str | None = None
    returned_at: datetime | None = None
    received_at: datetime | None = None  # the operator received the goods: the refund is under way
    refunded_at: datetime | None = None
    cancelled_at: datetime | None = None
    restocked: tuple[CaseLine, ...] = ()  # the units put back in stock with the refund (decided at receipt)

    @property
    def lines_paid_fen(self) -> int:
        """What the case's lines were paid: the most an approval may refund."""
        return sum(line.paid_fen for line in self.lines)

    @property
    def refund_lines(self) -> list[RefundLine]:
        return [RefundLine(line.product_id, line.quantity, line.sku_id) for line in self.lines]

    @property
    def restock_lines(self) -> list[RefundLine]:
        return [RefundLine(line.product_id, line.quantity, line.sku_id) for line in self.restocked]

    @property
    def refund_no(self) -> str:
        """The case's WeChat ``out_refund_no``: one per case, so a retry never refunds twice."""
        return self.case_id

    @property
    def refund_under_way(self) -> bool:
        """The money was decided (approved refund only, or goods received): only the refund may follow."""
        return self.status is CaseStatus.APPROVED or (self.received_at is not None
                                                        and self.status is not CaseStatus.REFUNDED)

    @property
    def shard(self) -> str:
        return id_shard(self.case_id)


def new_case_id(now: datetime) -> str:
    """Time-ordered, unguessable; with its refund suffix within WeChat's 64-character refund number."""
    return f"as{now:%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def check_order(status: OrderStatus) -> None:
    """A case only on a shipped or completed order (before shipment the refund is instant)."""
    if status not in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        raise WrongOrderStatus(f"an after-sales case needs a shipped or completed order, not {status.value}",
                               status=status.value)


def receipt_at(completed_at: datetime | None, delivered_at: datetime | None) -> datetime | None:
    """When the buyer received the goods: the carrier's delivery, or the confirmation, whichever
    came first (None: not yet received, the window has not started)."""
    known = [t for t in (completed_at, delivered_at) if t is not None]
    return min(known) if known else None


def window_closes_at(received: datetime | None, window_days: int) -> datetime | None:
    return received + timedelta(days=window_days) if received is not None else None


def check_window(received: datetime | None, window_days: int, now: datetime) -> None:
    closes = window_closes_at(received, window_days)
    if closes is not None and now >= closes:
        raise WindowClosed(f"the after-sales window closed {window_days} days after receipt",
                           closed_at=closes.isoformat(), window_days=window_days)


def case_lines(order: Order, wanted: Sequence[RefundLine]) -> tuple[CaseLine, ...]:
    """The case's lines: each names a line of the order (product and SKU) once, for 1 up to the
    units bought less those already refunded (INVALID_LINES otherwise, ``domain/refunds.py``),
    at the line's unit price."""
    check_lines(order, wanted)
    bought = {(line.product_id, line.sku_id): line for line in order.lines}
    return tuple(CaseLine(w.product_id, w.quantity, bought[w.key].unit_price_fen, w.sku_id,
                          lines_paid_fen(order, [w])) for w in wanted)


def approved_refund(case: Case, order: Order, asked_fen: int | None) -> int:
    """The refund an approval decides: ``asked_fen``, or the lines' whole paid amount; at least
    1 fen and at most what the lines were paid and what is left of the order's payment
    (REFUND_EXCEEDS_PAID)."""
    most = min(case.lines_paid_fen, order.amount_fen - order.refunded_fen)
    refund = min(case.lines_paid_fen, most) if asked_fen is None else asked_fen
    if not 1 <= refund <= most:
        raise RefundExceedsPaid(f"the refund is 1 to {most} fen: what the lines were paid, and what is left of the "
                                f"payment", lines_paid_fen=case.lines_paid_fen, max_fen=most, refund_fen=refund)
    return refund


def check_photos(photos: Sequence[str]) -> None:
    if len(photos) > MAX_PHOTOS:
        raise PhotoLimit(f"at most {MAX_PHOTOS} photos", max_photos=MAX_PHOTOS)
