"""``wx.login()`` codes exchanged for an openid (``jscode2session``).

Two implementations of one port: ``RealLogin`` calls WeChat's API; ``SimulatorLogin`` accepts
``dev:<name>`` codes, so a local demo logs in the same user every time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import urllib3

from chalicelib.domain.errors import Unavailable, WechatLoginFailed
from chalicelib.wechat.http import HttpBudget, call_json, configured_budget


@dataclass(frozen=True)
class WechatIdentity:
    openid: str
    unionid: str | None = None
    nickname: str | None = None  # only the simulator knows one


class LoginClient(Protocol):
    def exchange(self, code: str) -> WechatIdentity:
        """Exchange a ``wx.login()`` code; raises WechatLoginFailed for a refused code."""


_DEV_CODE = re.compile(r"^dev:([A-Za-z0-9_.\-]{1,32})$")


class SimulatorLogin:
    """``dev:<name>`` logs in the user whose openid is ``dev:<name>``; anything else is refused."""

    def exchange(self, code: str) -> WechatIdentity:
        match = _DEV_CODE.fullmatch(code)
        if not match:
            raise WechatLoginFailed("simulator login codes look like dev:<name>")
        return WechatIdentity(openid=code, nickname=match.group(1))


class RealLogin:
    """``GET /sns/jscode2session`` (mini-program login)."""

    def __init__(self, app_id: str, app_secret: str, api_base: str = "https://api.weixin.qq.com",
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._url = api_base.rstrip("/") + "/sns/jscode2session"
        budget = budget or configured_budget()
        self._timeout = budget.timeout()
        self._http = http or budget.pool()

    def exchange(self, code: str) -> WechatIdentity:
        fields = {"appid": self._app_id, "secret": self._app_secret, "js_code": code,
                  "grant_type": "authorization_code"}
        return _identity(call_json(self._http, "GET", self._url, self._timeout, "WeChat login", fields=fields))


# errcode -1 is "system busy": worth a retry; every other errcode refuses the code itself
# (40029 invalid code, 40163 code used, 45011 rate limited, 40226 risky user, ...).
_BUSY = -1


def _identity(answer: object) -> WechatIdentity:
    if not isinstance(answer, dict):
        raise Unavailable("WeChat login answered something unreadable; retry")
    errcode = answer.get("errcode", 0)
    if errcode == _BUSY:
        raise Unavailable("WeChat is busy; retry", wechat_errcode=errcode)
    if errcode or not answer.get("openid"):
        raise WechatLoginFailed(f"WeChat refused the login code: {answer.get('errmsg', 'no openid')}",
                                wechat_errcode=errcode)
    return WechatIdentity(openid=str(answer["openid"]), unionid=answer.get("unionid"))
