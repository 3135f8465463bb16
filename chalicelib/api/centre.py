"""The distributor's centre: the ledger, the promotion orders, the invitation ladder and its gift
pack (API.md v1.1; docs/distributor-centre.md). The team view is ``GET /v1/me/team`` (referrals)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.centre_schemas"
if TYPE_CHECKING:
    from chalicelib.api import centre_schemas as s
    from chalicelib.services import centre, gifts, ledger_view
else:
    s = lazy(M)
    centre, gifts, ledger_view = (lazy(f"chalicelib.services.{m}") for m in ("centre", "gifts", "ledger_view"))

bp = Blueprint(__name__)


@endpoint(bp, "/v1/me/ledger", tag="wallet", models=M, query="LedgerQuery", response="LedgerPage",
          summary="Every money line of the caller (佣金明细), newest first, each with the balances right after it: "
                  "commissions, their completion and settlement, reversals and clawbacks, the team bonus, the "
                  "invitation ladder's cash, leaderboard rewards, withdrawals", errors=("INVALID_CURSOR",))
def my_ledger(call: Call) -> s.LedgerPage:
    q = call.query
    lines, next_cursor = ledger_view.ledger(call.user_id, q.kind, q.limit, q.next, call.deps)
    return s.LedgerPage(items=[s.LedgerLineOut.of(line) for line in lines], next=next_cursor)


@endpoint(bp, "/v1/me/promotion-orders", tag="referrals", models=M, query="PromotionOrderQuery",
          response="PromotionOrdersPage",
          summary="The orders the caller earns on (推广订单) at level 1 or 2, newest first: status, amount, the "
                  "caller's commission and its state, the buyer's nickname masked", errors=("INVALID_CURSOR",))
def my_promotion_orders(call: Call) -> s.PromotionOrdersPage:
    q = call.query
    items, next_cursor = centre.promotion_orders(call.user_id, q.level, q.limit, q.next, call.deps)
    return s.PromotionOrdersPage(items=[s.PromotionOrderOut.of(o) for o in items], next=next_cursor)


@endpoint(bp, "/v1/me/invitations", tag="referrals", models=M, response="InvitationsAnswer",
          summary="The invitation ladder: qualified invitees, each milestone of the rules with when it was reached "
                  "and its fulfilment (cash credited; the gift pack's order)", errors=("NOT_FOUND",))
def my_invitations(call: Call) -> s.InvitationsAnswer:
    count, milestones = centre.invitations(call.user_id, call.deps)
    return s.InvitationsAnswer(qualified_invitees=count, milestones=[s.MilestoneOut.of(m) for m in milestones])


@endpoint(bp, "/v1/me/invitations/gift", "POST", tag="referrals", models=M, body="GiftBody", response="GiftAnswer",
          summary="Have the gift pack of a reached milestone sent: to the address given (or the latest order's). "
                  "Creates its zero-price order once; an ordered gift is answered as it is",
          errors=("GIFT_NOT_FOUND", "GIFT_NOT_CONFIGURED", "OUT_OF_STOCK", "VALIDATION_FAILED"))
def send_gift(call: Call) -> s.GiftAnswer:
    body = call.body.model_dump()
    gift = gifts.fulfil(call.user_id, body["invitees"], body["address"], call.deps)
    return s.GiftAnswer(invitees=gift.invitees, fulfilment=s.FulfilmentOut(state=gift.fulfilment or "pending",
                                                                            order_id=gift.gift_order_id))
