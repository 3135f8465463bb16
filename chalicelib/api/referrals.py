"""The referral network: binding and the team view."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import schemas as s
    from chalicelib.domain import clock, posters
    from chalicelib.services import referrals
else:
    s, clock, referrals = lazy("chalicelib.api.schemas"), lazy("chalicelib.domain.clock"), lazy("chalicelib.services.referrals")
    posters = lazy("chalicelib.domain.posters")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/referrals/bind", "POST", tag="referrals", body="BindBody", response="BindAnswer",
          summary="Bind the caller to the distributor who invited them",
          errors=("INVITE_CODE_NOT_FOUND", "ALREADY_BOUND", "NOT_A_NEW_USER", "SELF_REFERRAL", "REFERRAL_CYCLE",
                  "TEAM_TOO_LARGE", "SCENE_INVALID"))
def bind(call: Call) -> s.BindAnswer:
    invite_code, product_id = call.body.invite_code or "", None
    if call.body.scene is not None:  # a poster's code: the scene names the invite code (docs/posters.md)
        scene = posters.decode_scene(call.body.scene)
        invite_code, product_id = scene.invite_code, scene.product_id
    plan = referrals.bind(call.user_id, invite_code, call.deps)
    return s.BindAnswer(parent_id=plan.parent_id, grandparent_id=plan.grandparent_id, product_id=product_id)


@endpoint(bp, "/v1/me/team", tag="referrals", query="TeamQuery", response="TeamAnswer",
          summary="The caller's team: counters, progress to the next tier, and a page of members of level 1 "
                  "(direct invitees) or 2 (their invitees), each with what they bought this month",
          errors=("INVALID_CURSOR",))
def team(call: Call) -> s.TeamAnswer:
    view = referrals.team(call.user_id, call.query.limit, call.query.next, call.deps, call.query.level)
    next_tier = s.NextTierOut(tier=view.next_tier[0].value, needs=view.next_tier[1]) if view.next_tier else None
    direct = [s.DirectMemberOut(user_id=u.user_id, nickname=u.nickname,
                                bound_at=clock.iso(u.bound_at) if u.bound_at else None,
                                month_sales_fen=u.sales.of(view.month), direct_count=u.member.direct_count,
                                month_spent_fen=view.spent.get(u.user_id, 0),
                                parent_id=u.member.parent_id if view.level == 2 else None)
              for u in view.direct]
    return s.TeamAnswer(tier=view.user.tier.value, direct_count=view.user.member.direct_count,
                      team_count=view.user.member.team_count, month_sales_fen=view.month_sales_fen,
                      next_tier=next_tier, direct=direct, next=view.next_cursor)
