"""Auth and users: login, the profile, one-click shop opening."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.http import schemas as s
from chalicelib.domain.clock import iso
from chalicelib.services import auth, shops
from chalicelib.services.sessions import role_of

bp = Blueprint(__name__)


@endpoint(bp, "/v1/auth/login", "POST", auth="public", tag="auth", body="LoginBody", response="LoginAnswer",
          summary="Exchange a wx.login() code for a session token", errors=("WECHAT_LOGIN_FAILED",))
def login(call: Call) -> Any:
    result = auth.login(call.body.code, call.deps)
    return s.LoginAnswer(token=result.token, user=s.UserOut.of(result.user, result.role), new_user=result.new_user)


@endpoint(bp, "/v1/me", tag="users", response="UserOut", summary="The caller's profile")
def me(call: Call) -> Any:
    user = shops.profile(call.user_id, call.deps)
    return s.UserOut.of(user, role_of(user.openid, call.deps.settings))


@endpoint(bp, "/v1/me/distributor", "POST", tag="users", status=201, body="OpenShopBody", response="OpenShopAnswer",
          summary="Open a shop in one click: become a distributor with an invite code",
          errors=("CONTENT_BLOCKED", "ALREADY_DISTRIBUTOR", "NOT_ALLOWED_TO_PROMOTE"))
def open_shop(call: Call) -> Any:
    user = shops.open_shop(call.user_id, call.body.shop_name, call.deps)
    assert user.invite_code and user.shop
    return s.OpenShopAnswer(invite_code=user.invite_code, shop=s.ShopOut(name=user.shop.name,
                                                                    opened_at=iso(user.shop.opened_at)))
