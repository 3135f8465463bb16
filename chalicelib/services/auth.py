"""Logging in: a ``wx.login()`` code becomes our session token."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.users import User
from chalicelib.services import facts, promotions, visits
from chalicelib.services.sessions import Caller, issue_token, role_of

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class LoginResult:
    token: str
    user: User
    role: str
    new_user: bool


def login(code: str, deps: Deps) -> LoginResult:
    """Exchange the code with WeChat, create or touch the user, and issue a session token.
    The admin role comes from the ``ADMIN_OPENIDS`` setting at each login."""
    identity = deps.wechat_login.exchange(code)
    now = deps.clock()
    nickname = identity.nickname or "微信用户"
    user, created = deps.users.login(identity.openid, nickname, now)
    if created:
        facts.user_registered(deps, user.user_id, now)
        promotions.granted_at_login(user.user_id, deps)  # the new-user red packets (once; never raises)
    visits.visited(deps, user.user_id, now)  # a login makes a visitor of the day (never raises)
    role = role_of(identity.openid, deps.settings)
    token = issue_token(Caller(user.user_id, role), deps.settings, now)
    return LoginResult(token, user, role, created)
