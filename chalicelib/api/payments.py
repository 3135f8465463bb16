"""WeChat Pay's notification endpoint, and the simulator's payer."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.errors import CannotSign
from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.order_schemas"
if TYPE_CHECKING:
    from chalicelib.api import order_schemas as s
    from chalicelib.services import payments
else:
    s, payments = lazy(M), lazy("chalicelib.services.payments")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/wechat/pay/notify", "POST", auth="public", tag="payments", models=M, response="NotifyAnswer",
          summary="WeChat Pay API v3 notification: verified over the raw body, then the order is marked paid once",
          errors=("INVALID_SIGNATURE", "PAYMENT_MISMATCH"))
def pay_notify(call: Call) -> s.NotifyAnswer:
    payments.handle_notification(call.headers, call.raw_body, call.deps)
    return s.NotifyAnswer(code="SUCCESS", message="OK")


@endpoint(bp, "/v1/dev/pay/{order_id}", "POST", auth="simulator", tag="simulator", models=M, response="DevPayAnswer",
          summary="Play WeChat Pay: a signed, encrypted payment notification delivered to the real handler",
          errors=("ORDER_NOT_FOUND", "SIMULATOR_CANNOT_SIGN"))
def dev_pay(call: Call) -> s.DevPayAnswer:
    from chalicelib.domain.orders import OrderNotFound
    from chalicelib.wechat.pay_simulator import SimulatorCannotSign

    order = call.deps.orders.get(call.params["order_id"])
    if order is None:
        raise OrderNotFound("no such order")

    buyer = call.deps.users.get(order.buyer_id)
    try:
        headers, body = call.deps.pay.build_payment_notification(  # type: ignore[attr-defined]
            order.order_id, call.deps.clock(), amount_fen=order.amount_fen,
            payer_openid=buyer.openid if buyer else None)
    except SimulatorCannotSign as exc:
        raise CannotSign(str(exc)) from exc
    outcome = payments.handle_notification(headers, body, call.deps)
    return s.DevPayAnswer(status=outcome.outcome, notification={"headers": headers, "body": body.decode()})
