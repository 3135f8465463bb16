"""The console's distributors: the list with the API's search and filters, and one distributor
with their team on two levels, wallet, commission ledger and withdrawals, the manual tier and
the freeze, through the services of ``/v1/admin/distributors`` and ``/v1/admin/users/{id}/...``
(each change audited in its own transaction there)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import admin_schemas as a
    from chalicelib.domain import tiers
    from chalicelib.services import distributors, referrals, wallet, withdrawals
else:
    a, tiers = lazy("chalicelib.api.admin_schemas"), lazy("chalicelib.domain.tiers")
    distributors, referrals = lazy("chalicelib.services.distributors"), lazy("chalicelib.services.referrals")
    wallet, withdrawals = lazy("chalicelib.services.wallet"), lazy("chalicelib.services.withdrawals")

bp = Blueprint(__name__)
FILTERS = ("q", "tier", "frozen", "next")
TIERS = {"regular": "普通分销商", "senior": "高级分销商", "partner": "合伙人"}
COMMISSION_STATUSES = {"pending": "待结算", "frozen": "冻结中", "available": "可提现", "reversed": "已冲回",
                       "clawed_back": "已追回"}
WITHDRAWAL_STATUSES = {"reviewing": "待审核", "transferring": "转账中", "wait_user_confirm": "待用户确认",
                       "paid": "已到账", "returned": "已退回"}
LEVEL2_SHOWN = 20  # level-1 distributors whose own invitees the page lists
NEEDS = {"direct_count": "直推人数", "team_count": "团队人数", "month_sales_fen": "本月销售额"}
DONE = {"tier": "等级已更新。", "freeze": "已冻结。", "unfreeze": "已解冻。"}


@page(bp, "/console/distributors")
def distributor_list(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in FILTERS and v}
    q = validate(a.DistributorsQuery, given)
    filters = distributors.Filters(tiers.Tier(q.tier) if q.tier else None, q.frozen, q.q)
    rows, next_cursor = distributors.distributors(filters, 50, q.next, call.deps)
    return call.render("distributors.html", rows=rows, next=next_cursor, filters=given, tiers=TIERS)


def _team(user_id: str, call: PageCall) -> tuple[Any, list[tuple[Any, list[Any]]]]:
    """The distributor's view (counters, next tier) and their invitees on two levels."""
    view = referrals.team(user_id, 50, None, call.deps)
    levels = [(member, referrals.team(member.user_id, 20, None, call.deps).direct
               if member.member.direct_count else [])
              for member in view.direct[:LEVEL2_SHOWN]]
    return view, levels + [(m, []) for m in view.direct[LEVEL2_SHOWN:]]


@page(bp, "/console/distributors/{user_id}")
def distributor_page(call: PageCall) -> Response:
    user_id = call.params["user_id"]
    user = call.deps.users.get(user_id)
    if user is None or user.invite_code is None:
        from chalicelib.domain.distributors import DistributorNotFound

        raise DistributorNotFound("no distributor has this id", user_id=user_id)
    [figures] = distributors.with_figures([user], call.deps)
    view, team = _team(user_id, call)
    ledger, ledger_next = wallet.commissions(user_id, None, 30, call.query.get("ledger") or None, call.deps)
    taken, _ = withdrawals.mine(user_id, 10, None, call.deps)
    return call.render("distributor.html", d=figures, view=view, team=team, ledger=ledger, ledger_next=ledger_next,
                       withdrawals=taken, tiers=TIERS, commission_statuses=COMMISSION_STATUSES,
                       withdrawal_statuses=WITHDRAWAL_STATUSES, needs=NEEDS, done=DONE.get(call.query.get("done", ""), ""))


def _back(call: PageCall, done: str) -> Response:
    return call.redirect(f"/console/distributors/{call.params['user_id']}?done={done}")


@page(bp, "/console/distributors/{user_id}/tier", ("POST",))
def set_tier(call: PageCall) -> Response:
    body = validate(a.TierBody, {"tier": call.form.get("tier") or None, "reason": call.form.get("reason")})
    distributors.set_tier(call.params["user_id"], tiers.Tier(body.tier) if body.tier else None, body.reason,
                          call.admin_id, call.deps)
    return _back(call, "tier")


@page(bp, "/console/distributors/{user_id}/freeze", ("POST",))
def freeze(call: PageCall) -> Response:
    body = validate(a.ReasonBody, {"reason": call.form.get("reason")})
    distributors.freeze(call.params["user_id"], body.reason, call.admin_id, call.deps)
    return _back(call, "freeze")


@page(bp, "/console/distributors/{user_id}/unfreeze", ("POST",))
def unfreeze(call: PageCall) -> Response:
    body = validate(a.ReasonBody, {"reason": call.form.get("reason")})
    distributors.unfreeze(call.params["user_id"], body.reason, call.admin_id, call.deps)
    return _back(call, "unfreeze")
