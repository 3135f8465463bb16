"""The console's withdrawal review: the queue of ``GET /v1/admin/withdrawals`` with each payee's
name, tier, freeze and wallet, approve (the payout starts at once) and reject with a reason (the
money goes back), through the services of the API routes (audited there)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import wallet_schemas as w
    from chalicelib.services import withdrawals
else:
    w, withdrawals = lazy("chalicelib.api.wallet_schemas"), lazy("chalicelib.services.withdrawals")

bp = Blueprint(__name__)
DONE = {"approve": "已批准，转账已发起。", "reject": "已驳回，金额已退回分销商钱包。"}
TIERS = {"regular": "普通分销商", "senior": "高级分销商", "partner": "合伙人"}


@page(bp, "/console/withdrawals")
def queue(call: PageCall) -> Response:
    q = validate(w.WithdrawalQuery, {k: v for k, v in call.query.items() if k == "next" and v})
    items, next_cursor = withdrawals.review_queue(50, q.next, call.deps)
    ids = sorted({x.user_id for x in items})
    users = call.deps.users.get_many(ids) if ids else {}
    wallets = call.deps.ledger.wallets(ids) if ids else {}
    return call.render("withdrawals.html", items=items, users=users, wallets=wallets, next=next_cursor, tiers=TIERS,
                       done=DONE.get(call.query.get("done", ""), ""))


@page(bp, "/console/withdrawals/{withdrawal_id}/approve", ("POST",))
def approve(call: PageCall) -> Response:
    withdrawals.approve(call.params["withdrawal_id"], call.admin_id, call.deps)
    return call.redirect("/console/withdrawals?done=approve")


@page(bp, "/console/withdrawals/{withdrawal_id}/reject", ("POST",))
def reject(call: PageCall) -> Response:
    body = validate(w.RejectBody, {"reason": call.form.get("reason")})
    withdrawals.reject(call.params["withdrawal_id"], call.admin_id, body.reason, call.deps)
    return call.redirect("/console/withdrawals?done=reject")
