"""WeChat Pay in the use cases: what a payment notification does (the client is built in chalicelib.bootstrap)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.errors import Kind, error
from chalicelib.domain.groups import SeatLost
from chalicelib.domain.orders import Order, OrderStatus

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.wechat.pay import PayConfig, PaymentResult

AmountMismatch = error("PAYMENT_MISMATCH", Kind.INVALID,
                       "A verified notification's amount, currency or merchant does not match the order.")


@dataclass(frozen=True)
class NotificationOutcome:
    order_id: str | None
    outcome: str  # paid | already_paid | refunded_late | ignored


def handle_notification(headers: Mapping[str, str], raw_body: bytes, deps: Deps) -> NotificationOutcome:
    """Verify a Pay notification (signature over the raw body, freshness, AES-GCM resource) and
    mark its order paid, once. Replays and duplicates change nothing and are acknowledged; a
    payment for an order cancelled meanwhile is refunded automatically."""
    from chalicelib.wechat.pay import PaymentResult, verify_notification

    notification = verify_notification(headers, raw_body, deps.clock(), deps.pay.config)
    if notification.event_type != "TRANSACTION.SUCCESS":
        return NotificationOutcome(None, "ignored")
    result = PaymentResult.from_resource(notification.resource)
    order = deps.orders.get(result.out_trade_no)
    if order is None or result.trade_state != "SUCCESS":
        return NotificationOutcome(result.out_trade_no, "ignored")
    _check_matches(result, order, deps.pay.config)
    if order.status is OrderStatus.CANCELLED:
        return _refund_late(order, deps)
    return _record(order, result.transaction_id or "", deps)


def _check_matches(result: PaymentResult, order: Order, config: PayConfig) -> None:
    """Refuse a verified notification whose amount, currency, merchant or app is not the order's."""
    if (result.total_fen, result.currency, result.mch_id) != (order.amount_fen, "CNY", config.mch_id) \
            or (result.app_id and result.app_id != config.app_id):
        raise AmountMismatch("the notification does not match the order", order_id=order.order_id)


def _record(order: Order, transaction_id: str, deps: Deps) -> NotificationOutcome:
    """Mark the order paid; a seat lost meanwhile, or an order cancelled meanwhile, refunds."""
    from chalicelib.services.orders import record_payment

    try:
        paid = record_payment(order, transaction_id, deps)
    except SeatLost:  # a group seat released or a group closed before the money came
        from chalicelib.services.groups import give_up_seat

        give_up_seat(order, deps)
        return _refund_late(order, deps)
    if paid:
        return NotificationOutcome(order.order_id, "paid")
    # Not recorded: paid by a duplicate of this notification, or cancelled by the job between
    # our read and our write. The money of a cancelled order goes back (refunds are idempotent).
    now = deps.orders.get(order.order_id)
    if now is not None and now.status is OrderStatus.CANCELLED:
        return _refund_late(now, deps)
    return NotificationOutcome(order.order_id, "already_paid")


def _refund_late(order: Order, deps: Deps) -> NotificationOutcome:
    """Money for an order that can no longer be paid goes back (one refund number per order)."""
    deps.pay.refund(order.order_id, f"{order.order_id}L", order.amount_fen, order.amount_fen,
                    "订单已超时取消 order cancelled before payment")
    return NotificationOutcome(order.order_id, "refunded_late")
