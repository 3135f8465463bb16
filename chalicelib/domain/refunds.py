"""Partial refunds of a shipped or completed order (DOMAIN.md §9, docs/after-sales.md "The money").

An after-sales case refunds some units of some lines, for an amount up to what those units were
paid. What each refund changes is decided here, purely, from the order as read:

* the units refunded per line and the amount spread over them (``RefundRecord``);
* what each commission keeps: the accrual (``catalog.share_of``, floored per line like the
  accrual at payment) on the units **still paid**, so no commission is kept on a refunded unit,
  whatever amount the refund gave back; the difference is reversed or clawed back;
* whether every unit is now refunded (the order becomes ``refunded``).

The order records every refund number it applied, so a replay changes nothing.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.catalog import share_of
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import Line, Order, OrderStatus, RefundRecord, Share, WrongOrderStatus

InvalidLines = error("INVALID_LINES", Kind.INVALID,
                     "A line is not in the order, named twice, or asks more units than are left to refund.")
RefundExceedsPaid = error("REFUND_EXCEEDS_PAID", Kind.INVALID,
                          "The amount exceeds what the refunded units were paid, or what is left of the payment.")
AfterSalesRequired = error("AFTER_SALES_REQUIRED", Kind.CONFLICT,
                           "The order has shipped: a refund goes through an after-sales case.")

# WeChat Pay's ``out_refund_no``: 1–64 of digits, letters and ``_-|*@``.
REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")
# The statuses an after-sales refund applies to (before shipment the instant refund does).
AFTER_SHIPMENT = (OrderStatus.SHIPPED, OrderStatus.COMPLETED)

LineKey = tuple[str, str | None]  # (product_id, sku_id): an order names each at most once


@dataclass(frozen=True)
class RefundLine:
    """Units of one order line, named as the buyer names them (product, and SKU if any)."""

    product_id: str
    quantity: int
    sku_id: str | None = None

    @property
    def key(self) -> LineKey:
        return self.product_id, self.sku_id


def _key(line: Line) -> LineKey:
    return line.product_id, line.sku_id


def refunded_units(order: Order) -> list[int]:
    """Units refunded so far, per line index."""
    units = [0] * len(order.lines)
    for record in order.refunds:
        for index, count, _ in record.lines:
            units[index] += count
    return units


def refundable(order: Order) -> dict[LineKey, int]:
    """Units of each line not yet refunded, keyed (product_id, sku_id)."""
    return {_key(line): line.quantity - done for line, done in zip(order.lines, refunded_units(order), strict=True)}


def _indexed(order: Order, lines: Sequence[RefundLine]) -> list[tuple[int, int]]:
    """(line index, units) of each refund line; INVALID_LINES when one is not in the order or
    named twice, or asks 0 units."""
    where = {_key(line): index for index, line in enumerate(order.lines)}
    if not lines or len({line.key for line in lines}) != len(lines):
        raise InvalidLines("name each line of the order at most once, at least one", lines=len(lines))
    found = []
    for position, line in enumerate(lines):
        index = where.get(line.key)
        if index is None or line.quantity < 1:
            raise InvalidLines("a line is not in the order or asks no units", line=position,
                               product_id=line.product_id)
        found.append((index, line.quantity))
    return found


def check_lines(order: Order, lines: Sequence[RefundLine]) -> None:
    """Refuse (INVALID_LINES) lines not in the order, named twice, or asking more units than are
    left to refund."""
    left = [line.quantity - done for line, done in zip(order.lines, refunded_units(order), strict=True)]
    for position, (index, units) in enumerate(_indexed(order, lines)):
        if units > left[index]:
            raise InvalidLines("more units than are left to refund", line=position,
                               product_id=order.lines[index].product_id, left=left[index])


def lines_paid_fen(order: Order, lines: Sequence[RefundLine]) -> int:
    """What the units named were paid (the next units of each line not yet refunded, as
    ``Line.paid_between`` spreads the line's payment): the default and the cap of a refund's amount."""
    return sum(paid for _, paid in _units_paid(order, _indexed(order, lines)))


def _units_paid(order: Order, indexed: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(line index, what its next ``units`` not yet refunded were paid) of each (index, units)."""
    done = refunded_units(order)
    return [(index, order.lines[index].paid_between(done[index], done[index] + units)) for index, units in indexed]


def spread(amount_fen: int, parts: Sequence[tuple[int, int]]) -> list[int]:
    """``amount_fen`` over lines in proportion to their value (``parts``: (index, value)), floored,
    the remainder on the most valuable one (the first of equals) as far as its value allows, what
    it cannot take on the next most valuable, and so on: each line gets at most its value when the
    amount is at most their sum (floors of 6 over values 3, 2, 2 are 2, 1, 1: the remainder 2
    would give the first line 4 > 3, so it takes 1 and the second line 1)."""
    total = sum(value for _, value in parts)
    shares = [amount_fen * value // total if total else 0 for _, value in parts]
    remainder = amount_fen - sum(shares)
    for i in sorted(range(len(parts)), key=lambda i: -parts[i][1]):  # stable: the first of equals first
        if remainder <= 0:
            break
        taken = min(remainder, parts[i][1] - shares[i]) if total else remainder
        shares[i] += taken
        remainder -= taken
    return shares


def plan_record(order: Order, refund_no: str, lines: Sequence[RefundLine], amount_fen: int,
                restock: Sequence[RefundLine], now: datetime) -> RefundRecord:
    """The record of a refund the order can take: on a shipped or completed order
    (WRONG_ORDER_STATUS), lines as ``check_lines``, an amount of 0 up to what the units were paid
    and what is left of the payment (REFUND_EXCEEDS_PAID), restocked units among those refunded
    (INVALID_LINES)."""
    if order.status not in AFTER_SHIPMENT:
        raise WrongOrderStatus(f"an order that is {order.status.value} takes no after-sales refund",
                               status=order.status.value)
    check_lines(order, lines)
    indexed = _indexed(order, lines)
    units_paid = lines_paid_fen(order, lines)
    left = order.amount_fen - order.refunded_fen
    if not 0 <= amount_fen <= min(units_paid, left):
        raise RefundExceedsPaid("the amount is more than the units were paid or than is left of the payment",
                                amount_fen=amount_fen, lines_paid_fen=units_paid, left_fen=left)
    asked = dict(indexed)
    back = _indexed(order, restock) if restock else []
    for position, (index, units) in enumerate(back):
        if units > asked.get(index, 0):
            raise InvalidLines("restock only units this refund takes back", line=position,
                               product_id=order.lines[index].product_id)
    fen = spread(amount_fen, _units_paid(order, indexed))
    return RefundRecord(refund_no, amount_fen, tuple((i, u, f) for (i, u), f in zip(indexed, fen, strict=True)),
                        tuple(back), now)


def applied(order: Order, refund_no: str) -> bool:
    """Whether the order already took the refund of this number (a replay)."""
    return any(record.refund_no == refund_no for record in order.refunds)


def with_refund(order: Order, record: RefundRecord) -> Order:
    """The order after the refund: its refunded amount and records (the status is the store's
    to write: ``fully_refunded``)."""
    return replace(order, refunded_fen=order.refunded_fen + record.amount_fen, refunds=(*order.refunds, record))


def fully_refunded(order: Order) -> bool:
    """Every unit of every line refunded, gift lines aside (they were paid nothing: a buyer
    refunded all they paid for need not send the gift back for the order to be refunded)."""
    return all(done >= line.quantity for line, done in zip(order.lines, refunded_units(order), strict=True)
               if not line.gift)


def line_rate_bp(line: Line, level: int) -> int:
    return line.level1_rate_bp if level == 1 else line.level2_rate_bp


def accrual_on(lines: Sequence[Line], units: Sequence[int], level: int, uplift_bp: int) -> int:
    """A share's accrual on the last ``units`` of each line, those still paid (the payment's
    formula on what fewer units were paid; refunds take the first units)."""
    return sum(share_of(line.paid_between(line.quantity - count, line.quantity), line_rate_bp(line, level) + uplift_bp)
               for line, count in zip(lines, units, strict=True))


def share_uplift(lines: Sequence[Line], share: Share, candidates: Iterable[int]) -> int:
    """The uplift a share accrued with: recorded on shares accrued since partial refunds exist;
    for an older share, the first of ``candidates`` (0 and the tiers' uplifts) that reproduces its
    amount (0 when none does: the kept amount is then capped by what the share holds)."""
    if share.uplift_bp is not None:
        return share.uplift_bp
    full = [line.quantity for line in lines]
    return next((u for u in candidates if accrual_on(lines, full, share.level, u) == share.amount_fen), 0)


def kept_commission(order: Order, share: Share, candidates: Iterable[int] = (0,)) -> int:
    """What a share keeps of its accrual once the order's refunds are applied: the accrual on the
    units still paid, never more than it accrued."""
    units = [line.quantity - done for line, done in zip(order.lines, refunded_units(order), strict=True)]
    uplift = share_uplift(order.lines, share, candidates)
    return min(accrual_on(order.lines, units, share.level, uplift), share.amount_fen)


def restocked_cost_fen(order: Order, record: RefundRecord) -> int:
    """The cost of the units a refund put back in stock (what the refund day's margin gets back)."""
    return sum(order.lines[index].unit_cost_fen * units for index, units in record.restocked)
