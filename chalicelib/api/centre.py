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
    from chalicelib.services import ledger_view
else:
    s, ledger_view = lazy(M), lazy("chalicelib.services.ledger_view")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/me/ledger", tag="wallet", models=M, query="LedgerQuery", response="LedgerPage",
          summary="Every money line of the caller (佣金明细), newest first, each with the balances right after it: "
                  "commissions, their completion and settlement, reversals and clawbacks, the team bonus, the "
                  "invitation ladder's cash, leaderboard rewards, withdrawals", errors=("INVALID_CURSOR",))
def my_ledger(call: Call) -> s.LedgerPage:
    q = call.query
    lines, next_cursor = ledger_view.ledger(call.user_id, q.kind, q.limit, q.next, call.deps)
    return s.LedgerPage(items=[s.LedgerLineOut.of(line) for line in lines], next=next_cursor)
