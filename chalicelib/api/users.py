"""Auth and users: login, the profile, one-click shop opening."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import content_schemas as c
    from chalicelib.api import schemas as s
    from chalicelib.domain import clock
    from chalicelib.services import auth, sessions, shops
else:
    c, s = lazy("chalicelib.api.content_schemas"), lazy("chalicelib.api.schemas")
    clock = lazy("chalicelib.domain.clock")
    auth, sessions, shops = (lazy(f"chalicelib.services.{m}") for m in ("auth", "sessions", "shops"))

bp = Blueprint(__name__)


@endpoint(bp, "/v1/auth/login", "POST", auth="public", tag="auth", body="LoginBody", response="LoginAnswer",
          summary="Exchange a wx.login() code for a session token", errors=("WECHAT_LOGIN_FAILED",))
def login(call: Call) -> s.LoginAnswer:
    result = auth.login(call.body.code, call.deps)
    return s.LoginAnswer(token=result.token, user=s.UserOut.of(result.user, result.role), new_user=result.new_user)


@endpoint(bp, "/v1/me", tag="users", response="UserOut", summary="The caller's profile")
def me(call: Call) -> s.UserOut:
    user = shops.profile(call.user_id, call.deps)
    return s.UserOut.of(user, sessions.role_of(user.openid, call.deps.settings))


@endpoint(bp, "/v1/me/distributor", "POST", tag="users", status=201, body="OpenShopBody", response="OpenShopResult",
          models="chalicelib.api.content_schemas",
          summary="Open a shop in one click: become a distributor with an invite code (a name held for review "
                  "shows a placeholder until approved)",
          errors=("CONTENT_BLOCKED", "ALREADY_DISTRIBUTOR", "NOT_ALLOWED_TO_PROMOTE"))
def open_shop(call: Call) -> c.OpenShopResult:
    opened = shops.open_shop_moderated(call.user_id, call.body.shop_name, call.deps)
    user = opened.user
    if not (user.invite_code and user.shop):
        raise RuntimeError(f"opening a shop left user {user.user_id} without an invite code or a shop")
    review = c.NameReviewOut(review_id=opened.name_review_id, requested_name=opened.requested_name,
                             status="pending") if opened.name_review_id else None
    return c.OpenShopResult(invite_code=user.invite_code, name_review=review,
                            shop=s.ShopOut(name=user.shop.name, opened_at=clock.iso(user.shop.opened_at)))
