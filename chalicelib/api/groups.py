"""Group-buy (拼团): open a group, join it, look at it (docs/groups.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.group_schemas"
if TYPE_CHECKING:
    from chalicelib.api import group_schemas as s
    from chalicelib.services import groups
else:
    s, groups = lazy(M), lazy("chalicelib.services.groups")

bp = Blueprint(__name__)
CHECKOUT_ERRORS = ("IDEMPOTENCY_KEY_REQUIRED", "IDEMPOTENCY_KEY_REUSED", "OUT_OF_STOCK")


def _payment(result: groups.GroupCheckout) -> s.PaymentOut | None:
    return s.PaymentOut(**result.payment) if result.payment else None


@endpoint(bp, "/v1/groups", "POST", tag="groups", status=201, models=M, body="OpenGroupBody",
          response="OpenGroupAnswer", errors=(*CHECKOUT_ERRORS, "PRODUCT_NOT_FOUND", "NOT_A_GROUP_PRODUCT", "SKU_REQUIRED",
                                                          "SKU_NOT_FOUND"),
          summary="Open a group (Idempotency-Key header required): the leader's order at the group price",
          idempotent=True)
def open_group(call: Call) -> s.OpenGroupAnswer:
    result = groups.open_group(call.user_id, call.body.product_id, call.body.model_dump(mode="json"),
                               call.idempotency_key, call.deps, sku_id=call.body.sku_id)
    order = result.order
    return s.OpenGroupAnswer(group_id=result.group.group_id, order_id=order.order_id, amount_fen=order.amount_fen,
                             payment=_payment(result), pay_deadline=s.iso(order.pay_deadline),
                             expires_at=s.iso(result.group.expires_at))


@endpoint(bp, "/v1/groups/{group_id}/join", "POST", tag="groups", status=201, models=M, body="JoinGroupBody",
          response="JoinGroupAnswer",
          errors=(*CHECKOUT_ERRORS, "GROUP_NOT_FOUND", "GROUP_FULL", "GROUP_CLOSED", "ALREADY_MEMBER"),
          summary="Join a group (Idempotency-Key header required): a seat is held until payment or its deadline",
          idempotent=True)
def join_group(call: Call) -> s.JoinGroupAnswer:
    result = groups.join_group(call.user_id, call.params["group_id"], call.body.model_dump(mode="json"),
                               call.idempotency_key, call.deps)
    order = result.order
    return s.JoinGroupAnswer(group_id=result.group.group_id, order_id=order.order_id, amount_fen=order.amount_fen,
                             payment=_payment(result), pay_deadline=s.iso(order.pay_deadline))


@endpoint(bp, "/v1/groups/{group_id}", tag="groups", models=M, response="GroupOut",
          summary="A group: status, size, members, deadline", errors=("GROUP_NOT_FOUND",))
def get_group(call: Call) -> s.GroupOut:
    return s.GroupOut.of(groups.get_group(call.params["group_id"], call.deps))
