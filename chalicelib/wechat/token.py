"""The mini-program's access token, shared by every server API that takes one (content security,
the shipping report): one cache per process, so the clients never fetch it twice.

It comes from ``POST /cgi-bin/stable_token`` (``client_credential``, normal mode: it returns the
token currently valid, so Lambda containers do not invalidate each other's) and is cached until a
minute before its ``expires_in``. A caller told the token is invalid or expired (``TOKEN_INVALID``:
40001, 42001, 40014) asks for a fresh one once (``get(refresh=True)``) and retries once.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import urllib3

from chalicelib.domain.errors import Unavailable
from chalicelib.wechat.http import HttpBudget, call_json, configured_budget

TOKEN_INVALID = frozenset({40001, 42001, 40014})


class AccessToken:
    """The cached stable access token of one app."""

    def __init__(self, app_id: str, app_secret: str, api_base: str = "https://api.weixin.qq.com",
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._app_id, self._app_secret = app_id, app_secret
        self.base = api_base.rstrip("/")
        self.budget = budget or configured_budget()
        self.http = http or self.budget.pool()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)

    def get(self, refresh: bool = False, deadline: float | None = None) -> str:
        """The cached token, or a new one when it is missing, near expiry or refused; ``deadline``
        (``time.monotonic()``) as in ``post``."""
        with self._lock:
            now = self._monotonic()
            if self._token and not refresh and now < self._token[1]:
                return self._token[0]
            answer = self.post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": self._app_id,
                                                        "secret": self._app_secret, "force_refresh": False},
                               "WeChat", deadline)
            token, expires_in = answer.get("access_token"), answer.get("expires_in")
            if answer.get("errcode") or not isinstance(token, str) or not isinstance(expires_in, int):
                raise Unavailable("WeChat gave no access token; check WECHAT_APP_ID/SECRET",
                                  wechat_errcode=answer.get("errcode"))
            self._token = (token, now + max(expires_in - 60, 1))
            return token

    def post(self, path: str, body: dict[str, Any], what: str, deadline: float | None = None) -> dict[str, Any]:
        """One JSON call to ``api_base + path``, given no more than the time left before
        ``deadline`` (Unavailable when none is)."""
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise Unavailable(f"{what} took longer than its budget; retry")
        data = json.dumps(body, ensure_ascii=False).encode()
        return call_json(self.http, "POST", self.base + path, self.budget.timeout(left), what,
                         body=data, headers={"Content-Type": "application/json"})
