"""The four causes of a subscribe message, as ``Notice``s: who gets it, the cause's id (the
message's key: one message per cause however often the cause is reported) and the values a
template may show (``subscriptions.FIELDS``). Pure. docs/subscribe-messages.md.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.after_sales import Case, CaseStatus
from chalicelib.domain.fulfilment import CARRIERS, item_desc
from chalicelib.domain.orders import Order
from chalicelib.domain.subscriptions import MessageKind, Notice, moment, yuan
from chalicelib.domain.withdrawals import Withdrawal

LEVELS = {1: "一级", 2: "二级"}


def commission_credited(user_id: str, order_id: str, level: int, amount_fen: int, at: datetime) -> Notice:
    """A commission became available (settled after its hold): one message per commission."""
    return Notice(MessageKind.COMMISSION_CREDITED, user_id, f"{order_id}#{level}",
                  {"amount": yuan(amount_fen), "order_id": order_id, "level": LEVELS.get(level, str(level)),
                   "at": moment(at)})


def order_shipped(order: Order, at: datetime) -> Notice:
    """An order shipped, to its buyer: one message per order."""
    carrier = order.carrier or ""
    name = CARRIERS[carrier][0] if carrier in CARRIERS else carrier
    return Notice(MessageKind.ORDER_SHIPPED, order.buyer_id, order.order_id,
                  {"order_id": order.order_id, "carrier": name, "tracking_no": order.tracking_no or "",
                   "items": item_desc(((line.name, line.quantity) for line in order.lines), 20), "at": moment(at)})


def withdrawal_paid(withdrawal: Withdrawal, at: datetime) -> Notice:
    """A withdrawal WeChat paid: one message per withdrawal."""
    return Notice(MessageKind.WITHDRAWAL_PAID, withdrawal.user_id, withdrawal.withdrawal_id,
                  {"amount": yuan(withdrawal.amount_fen), "withdrawal_id": withdrawal.withdrawal_id, "at": moment(at)})


def after_sales_decided(case: Case) -> Notice:
    """The operator's decision on a case (approved or rejected), to its buyer: one message per
    case (its receipt and refund later are not another decision)."""
    rejected = case.status is CaseStatus.REJECTED
    return Notice(MessageKind.AFTER_SALES_DECIDED, case.buyer_id, case.case_id,
                  {"case_id": case.case_id, "order_id": case.order_id, "result": "已拒绝" if rejected else "已同意",
                   "amount": yuan(0 if rejected else case.refund_fen or 0),
                   "reason": (case.reject_reason or "") if rejected else "售后申请已同意",
                   "at": moment(case.decided_at or case.created_at)})
