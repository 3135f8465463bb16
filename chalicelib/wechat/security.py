"""WeChat content security: ``msgSecCheck`` v2, the second stage after our own lexicon.

Two implementations of one port: ``RealContentSecurity`` calls
``POST /wxa/msg_sec_check?access_token=...`` with ``{"content","version":2,"scene","openid"}``
(the token only in the query: in the body WeChat answers 47001); ``SimulatorContentSecurity``
answers deterministically from marker words, so demos and tests can play every outcome.

The access token is the process's one ``wechat/token.py`` ``AccessToken`` (shared with the
shipping report); an answer saying it is invalid or expired refreshes it once and retries once.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import urllib3

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.moderation import SCENE_PROFILE, SCENE_SOCIAL  # noqa: F401 (scenes of the port)
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.token import TOKEN_INVALID, AccessToken

MAX_CONTENT_CHARS = 2_500  # WeChat's limit per call; longer texts are checked in pieces
# A whole check's budget, in calls: a token and a verdict. More pieces or a token refresh must fit
# in it, or the check is Unavailable (the caller holds the text for review).
CHECK_CALLS = 2

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
                 monotonic: Callable[[], float] = time.monotonic, token: AccessToken | None = None) -> None:
        self._token = token or AccessToken(app_id, app_secret, api_base, budget, http, monotonic)
        self._budget = self._token.budget

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
            token = self._token.get(refresh=attempt > 0, deadline=deadline)
            answer = self._token.post(f"/wxa/msg_sec_check?access_token={token}", body, "WeChat content security",
                                      deadline)
            errcode = answer.get("errcode", 0)
            if errcode in TOKEN_INVALID and attempt == 0:
                continue  # refresh the token once
            return _result(answer)
        raise Unavailable("WeChat refused a fresh access token; retry", wechat_errcode=errcode)


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
