"""WeChat content security: ``msgSecCheck`` v2, the second stage after our own lexicon.

Two implementations of one port: ``RealContentSecurity`` calls
``POST /wxa/msg_sec_check?access_token=...`` with ``{"content","version":2,"scene","openid"}``
(the token only in the query: in the body WeChat answers 47001); ``SimulatorContentSecurity``
answers deterministically from marker words, so demos and tests can play every outcome.

The access token comes from ``POST /cgi-bin/stable_token`` (``client_credential``, normal mode:
it returns the token currently valid, so Lambda containers do not invalidate each other's) and
is cached until a minute before its ``expires_in``. An answer saying the token is invalid or
expired (40001, 42001, 40014) refreshes it once and retries once.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.moderation import SCENE_PROFILE, SCENE_SOCIAL  # noqa: F401 (scenes of the port)
from chalicelib.wechat.http import HttpBudget, call_json, configured_budget

MAX_CONTENT_CHARS = 2_500  # WeChat's limit per call; longer texts are checked in pieces
# A whole check's budget, in calls: a token and a verdict. More pieces or a token refresh must fit
# in it, or the check is Unavailable (the caller holds the text for review).
CHECK_CALLS = 2

_TOKEN_INVALID = {40001, 42001, 40014}
_RISKY_V1 = 87014  # v1's "content is risky"; v2 reports it in result.suggest, but tolerate both
_SUGGESTIONS = {"pass", "review", "risky"}


@dataclass(frozen=True)
class SecResult:
    suggest: str  # "pass" | "review" | "risky"
    label: int = 100  # 100 normal, 10001 ad, 20001 politics, 20002 porn, 20003 abuse, 20006 crime, 20008 fraud, ...
    trace_id: str | None = None


class ContentSecurity(Protocol):
    def check(self, content: str, openid: str, scene: int, title: str | None = None) -> SecResult:
        """WeChat's verdict on a text; raises Unavailable when WeChat cannot answer."""


class SimulatorContentSecurity:
    """``模拟违规`` anywhere in the text → risky (label 20008 fraud); ``模拟审核`` → review."""

    RISKY_MARKER = "模拟违规"
    REVIEW_MARKER = "模拟审核"
    UNAVAILABLE_MARKER = "模拟故障"

    def check(self, content: str, openid: str, scene: int, title: str | None = None) -> SecResult:
        text = (title or "") + "\n" + content
        if self.UNAVAILABLE_MARKER in text:
            raise Unavailable("WeChat content security is unavailable (simulated); retry")
        if self.RISKY_MARKER in text:
            return SecResult("risky", 20008, "sim-trace")
        if self.REVIEW_MARKER in text:
            return SecResult("review", 21000, "sim-trace")
        return SecResult("pass", 100, "sim-trace")


class RealContentSecurity:
    """``msgSecCheck`` v2 with a cached stable access token."""

    def __init__(self, app_id: str, app_secret: str, api_base: str = "https://api.weixin.qq.com",
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._app_id, self._app_secret = app_id, app_secret
        self._base = api_base.rstrip("/")
        self._budget = budget or configured_budget()
        self._http = http or self._budget.pool()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)

    def check(self, content: str, openid: str, scene: int, title: str | None = None) -> SecResult:
        deadline = time.monotonic() + CHECK_CALLS * self._budget.call_seconds()
        pieces = [content[i:i + MAX_CONTENT_CHARS] for i in range(0, len(content), MAX_CONTENT_CHARS)] or [""]
        results = [self._check_piece(piece, openid, scene, title, deadline) for piece in pieces]
        order = ["pass", "review", "risky"]
        return max(results, key=lambda r: order.index(r.suggest))

    def _check_piece(self, content: str, openid: str, scene: int, title: str | None, deadline: float) -> SecResult:
        body: dict[str, Any] = {"content": content, "version": 2, "scene": scene, "openid": openid}
        if title:
            body["title"] = title
        for attempt in range(2):
            token = self.access_token(refresh=attempt > 0, deadline=deadline)
            answer = self._post(f"/wxa/msg_sec_check?access_token={token}", body, deadline)
            errcode = answer.get("errcode", 0)
            if errcode in _TOKEN_INVALID and attempt == 0:
                continue  # refresh the token once
            return _result(answer)
        raise Unavailable("WeChat refused a fresh access token; retry", wechat_errcode=errcode)

    def access_token(self, refresh: bool = False, deadline: float | None = None) -> str:
        """The cached token, or a new one when it is missing, near expiry or refused; ``deadline``
        (``time.monotonic()``) as in ``_post``."""
        with self._lock:
            now = self._monotonic()
            if self._token and not refresh and now < self._token[1]:
                return self._token[0]
            answer = self._post("/cgi-bin/stable_token", {"grant_type": "client_credential", "appid": self._app_id,
                                                         "secret": self._app_secret, "force_refresh": False},
                                deadline)
            token, expires_in = answer.get("access_token"), answer.get("expires_in")
            if answer.get("errcode") or not isinstance(token, str) or not isinstance(expires_in, int):
                raise Unavailable("WeChat gave no access token; check WECHAT_APP_ID/SECRET",
                                  wechat_errcode=answer.get("errcode"))
            self._token = (token, now + max(expires_in - 60, 1))
            return token

    def _post(self, path: str, body: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        """One call, given no more than the time left before ``deadline`` (Unavailable when none is)."""
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise Unavailable("WeChat content security took longer than its budget; retry")
        data = json.dumps(body, ensure_ascii=False).encode()
        return call_json(self._http, "POST", self._base + path, self._budget.timeout(left), "WeChat content security",
                         body=data, headers={"Content-Type": "application/json"})


def _result(answer: dict[str, Any]) -> SecResult:
    errcode = answer.get("errcode", 0)
    trace_id = answer.get("trace_id")
    if errcode == _RISKY_V1:
        return SecResult("risky", 21000, trace_id)
    if errcode:
        # -1 busy; 40003 bad openid / 43104 openid of another app (the user has not opened the
        # mini-program lately); 44002/47001 malformed: none is an answer about the text.
        raise Unavailable(f"WeChat could not check the text: {answer.get('errmsg', errcode)}", wechat_errcode=errcode)
    result = answer.get("result")
    suggest = result.get("suggest") if isinstance(result, dict) else None
    if suggest not in _SUGGESTIONS:
        raise Unavailable("WeChat answered without a verdict; retry")
    label = result.get("label", 100) if isinstance(result, dict) else 100
    return SecResult(str(suggest), int(label) if isinstance(label, int | str) and str(label).isdigit() else 0, trace_id)
