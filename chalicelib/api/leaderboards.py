"""The monthly leaderboards (月度榜单): a distributor's view and the operator's."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.leaderboard_schemas"
if TYPE_CHECKING:
    from chalicelib.api import leaderboard_schemas as s
    from chalicelib.services import leaderboards
else:
    s, leaderboards = lazy(M), lazy("chalicelib.services.leaderboards")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/leaderboards/{board}", tag="leaderboards", models=M, query="BoardQuery", response="BoardOut",
          summary="A monthly leaderboard (sales, new_customers): the top ranks live, others' nicknames masked, "
                  "and the caller's own rank; the current month or one of the rules' history_months before",
          errors=("LEADERBOARD_NOT_FOUND", "MONTH_OUT_OF_RANGE", "VALIDATION_FAILED"))
def board(call: Call) -> s.BoardOut:
    standing = leaderboards.read_board(call.params["board"], call.query.month, call.user_id, call.deps)
    rank, value = standing.me or (None, 0)
    return s.BoardOut(month=standing.month,
                      items=[s.BoardRow(rank=r.rank, nickname=name, value=r.value) for r, name in standing.rows],
                      me=s.BoardMe(rank=rank, value=value))


@endpoint(bp, "/v1/admin/leaderboards/{board}", auth="admin", tag="leaderboards", models=M, query="BoardQuery",
          response="AdminBoardOut",
          summary="A leaderboard of any month up to the current one, with user ids, and once the month closed, "
                  "its awards and what each reward keeps",
          errors=("LEADERBOARD_NOT_FOUND", "MONTH_OUT_OF_RANGE", "VALIDATION_FAILED"))
def admin_board(call: Call) -> s.AdminBoardOut:
    found = leaderboards.admin_board(call.params["board"], call.query.month, call.deps)
    awards = [s.AwardOut(rank=a.rank, user_id=a.user_id, value=a.value, reward_fen=a.reward_fen,
                         status=r.status if r else "unpaid", amount_fen=r.amount_fen if r else 0)
              for a, r in found.awards or []]
    return s.AdminBoardOut(month=found.month, closed=found.awards is not None, awards=awards,
                           items=[s.AdminBoardRow(rank=r.rank, user_id=r.user_id, nickname=name, value=r.value)
                                  for r, name in found.rows])
