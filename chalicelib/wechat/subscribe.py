"""Sending subscribe messages (订阅消息, ``subscribeMessage.send``).

``POST https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=...`` with

    {"touser": "<openid>", "template_id": "<template id>", "page": "pages/order/detail?id=o1",
     "data": {"character_string1": {"value": "o1"}, "time5": {"value": "2026年12月06日 20:15"}},
     "miniprogram_state": "formal", "lang": "zh_CN"}

answered ``{"errcode": 0, "errmsg": "ok", "msgid": …}`` or an errcode. ``page`` is optional
(none: the card opens nothing); ``miniprogram_state`` developer | trial | formal.

What an errcode means here (``verdict``): 0 sent; 43101 (the user refused: no one-time
subscription left, or they turned the template off) → USER_REFUSED, final; -1 (busy) and 45009
(the daily quota) → RETRY, like being unreachable; 40001/42001/40014 → a fresh token, once;
anything else (40003 an openid not of this app, 40037 a wrong template id, 47003 data not as the
template wants, 41030 a page not in the released mini-program) → REFUSED: the same body would be
refused again. docs/subscribe-messages.md.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.subscriptions import Message, Verdict
from chalicelib.wechat.token import TOKEN_INVALID, AccessToken

SEND_PATH = "/cgi-bin/message/subscribe/send"
USER_REFUSED, BUSY, QUOTA = 43101, -1, 45009
RETRY_CODES = frozenset({BUSY, QUOTA})
ERRMSG = {0: "ok", -1: "system error", 40003: "invalid openid", 40037: "invalid template_id",
          41030: "invalid page", USER_REFUSED: "user refuse to accept the msg",
          QUOTA: "reach max api daily quota limit", 47003: "argument invalid!",
          40001: "invalid credential, access_token is invalid or not latest"}


class SubscribeMessages(Protocol):
    def send(self, message: Message, state: str, lang: str) -> tuple[Verdict, str | None]:
        """Send one message: WeChat's verdict and, unless sent, what it said. Raises Unavailable
        when WeChat could not be reached (the caller tries again later)."""


def send_body(message: Message, state: str, lang: str) -> dict[str, Any]:
    body: dict[str, Any] = {"touser": message.openid, "template_id": message.template_id,
                            "data": {key: dict(value) for key, value in message.data.items()},
                            "miniprogram_state": state, "lang": lang}
    if message.page:
        body["page"] = message.page
    return body


def verdict(answer: Mapping[str, Any]) -> tuple[Verdict, str | None]:
    errcode = answer.get("errcode", 0)
    if not isinstance(errcode, int):
        return Verdict.RETRY, f"unreadable errcode {errcode!r}"
    if errcode == 0:
        return Verdict.SENT, None
    said = f"{errcode} {answer.get('errmsg', '')}".strip()[:200]
    if errcode == USER_REFUSED:
        return Verdict.USER_REFUSED, said
    return (Verdict.RETRY if errcode in RETRY_CODES else Verdict.REFUSED), said


class RealSubscribeMessages:
    """``subscribeMessage.send`` with the process's shared access token."""

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def send(self, message: Message, state: str, lang: str) -> tuple[Verdict, str | None]:
        deadline = time.monotonic() + 2 * self._token.budget.call_seconds()  # a token and the send
        body = send_body(message, state, lang)
        for attempt in range(2):
            token = self._token.get(refresh=attempt > 0, deadline=deadline)
            answer = self._token.post(f"{SEND_PATH}?access_token={token}", body, "WeChat subscribe message", deadline)
            if answer.get("errcode") in TOKEN_INVALID and attempt == 0:
                continue
            return verdict(answer)
        raise Unavailable("WeChat refused a fresh access token; retry", wechat_errcode=answer.get("errcode"))
