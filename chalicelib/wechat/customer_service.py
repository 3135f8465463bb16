"""Sending customer-service messages (客服消息, ``customerServiceMessage.send``).

``POST https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=...`` with
``{"touser": "<openid>", "msgtype": "text", "text": {"content": "..."}}`` answers
``{"errcode": 0, "errmsg": "ok"}`` or an errcode. WeChat lets the mini-program answer only inside
a window opened by the user (``domain.support.WINDOWS``: 5 messages in 48 h after a message, 2
in 1 min after entering the conversation): outside it 45015 (response out of time limit), past
the count 45047 (out of response count limit). What an errcode means here (``outcome``): 0 sent;
45015 → REPLY_WINDOW_CLOSED and 45047 → REPLY_LIMIT_REACHED (409: WeChat has the last word on
its window); -1 (busy) → Unavailable (503, send again); 40001/42001/40014 → a fresh token, once;
anything else (40003 an openid not of this app, 43101/43004 user refused, 47001 malformed) →
REPLY_REFUSED (409), with WeChat's errcode.

Two implementations of one port: ``RealCustomerService`` and ``CustomerServiceSimulator``, which
keeps what WeChat would remember per openid (the user's last actions and the messages sent in
their window, in a ``SimulatorState``) and answers 45015/45047 by the same rules, so the refusal
paths run locally; ``sent(openid)`` lists what was sent.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.errors import Kind, Unavailable, error
from chalicelib.domain.invariants import present
from chalicelib.domain.support import WINDOWS, ReplyLimitReached, ReplyWindowClosed, WindowKind
from chalicelib.wechat.simulator_state import MemoryState, SimulatorState, time_of, time_text
from chalicelib.wechat.token import TOKEN_INVALID, AccessToken

SEND_PATH = "/cgi-bin/message/custom/send"
OUT_OF_TIME, OUT_OF_COUNT, BUSY = 45015, 45047, -1
ReplyRefused = error("REPLY_REFUSED", Kind.CONFLICT,
                     "WeChat refused the message for another reason (wechat_errcode says which).")
ERRMSG = {0: "ok", -1: "system error", OUT_OF_TIME: "response out of time limit or subscription is canceled",
          OUT_OF_COUNT: "out of response count limit", 40003: "invalid openid", 47001: "data format error",
          40001: "invalid credential, access_token is invalid or not latest"}


class CustomerService(Protocol):
    def send_text(self, openid: str, content: str, now: datetime) -> None:
        """Send one text message; raises ReplyWindowClosed, ReplyLimitReached, ReplyRefused (WeChat
        said no) or Unavailable (not reached, or busy: the caller may send again)."""


def send_body(openid: str, content: str) -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def outcome(answer: dict[str, Any]) -> None:
    """Raise what WeChat's answer means; nothing when it was sent."""
    errcode = answer.get("errcode", 0)
    if errcode == 0:
        return
    said = f"{errcode} {answer.get('errmsg', '')}".strip()[:200]
    if errcode == OUT_OF_TIME:
        raise ReplyWindowClosed(f"WeChat: {said}", wechat_errcode=errcode)
    if errcode == OUT_OF_COUNT:
        raise ReplyLimitReached(f"WeChat: {said}", wechat_errcode=errcode)
    if errcode == BUSY or not isinstance(errcode, int):
        raise Unavailable(f"WeChat is busy ({said}); retry", wechat_errcode=errcode)
    raise ReplyRefused(f"WeChat refused the message: {said}", wechat_errcode=errcode)


class RealCustomerService:
    """``customerServiceMessage.send`` with the process's shared access token."""

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def send_text(self, openid: str, content: str, now: datetime) -> None:
        deadline = time.monotonic() + 2 * self._token.budget.call_seconds()  # a token and the send
        body = send_body(openid, content)
        for attempt in range(2):
            token = self._token.get(refresh=attempt > 0, deadline=deadline)
            answer = self._token.post(f"{SEND_PATH}?access_token={token}", body, "WeChat customer service", deadline)
            if answer.get("errcode") in TOKEN_INVALID and attempt == 0:
                continue
            outcome(answer)
            return
        raise Unavailable("WeChat refused a fresh access token; retry", wechat_errcode=answer.get("errcode"))


class CustomerServiceSimulator:
    """WeChat's side of the conversation, played locally: the user's actions (``user_acted``,
    called by whoever plays the user: the dev route, the tests) open windows as WeChat's do, and
    ``receive`` answers a send body as WeChat would. ``fail(errcode)`` answers the next send
    with it (None: unreachable)."""

    def __init__(self, state: SimulatorState | None = None) -> None:
        self._state = state or MemoryState()
        self._lock = threading.Lock()
        self._failures: list[int | None] = []

    def fail(self, errcode: int | None, times: int = 1) -> None:
        with self._lock:
            self._failures += [errcode] * times

    def user_acted(self, openid: str, kind: WindowKind, at: datetime) -> None:
        """The user wrote (``MESSAGE``) or entered the conversation (``SESSION``): a new window,
        except that entering never shortens an open message window."""
        with self._lock:
            record = self._state.load(openid) or {"sent": []}
            window = record.get("window")
            if kind is WindowKind.SESSION and window and window["kind"] == WindowKind.MESSAGE.value \
                    and self._open(window, at):
                return
            record["window"] = {"kind": kind.value, "at": time_text(at), "used": 0}
            self._state.save(openid, record)

    def sent(self, openid: str) -> list[dict[str, Any]]:
        """The bodies WeChat delivered to this user, in order."""
        record = self._state.load(openid)
        return list(record["sent"]) if record else []

    def send_text(self, openid: str, content: str, now: datetime) -> None:
        outcome(self.receive(send_body(openid, content), now))

    def receive(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        with self._lock:
            if self._failures:
                errcode = self._failures.pop(0)
                if errcode is None:
                    raise Unavailable("WeChat customer service is unreachable (simulated); retry")
                return _answer(errcode)
            openid, text = body.get("touser"), body.get("text")
            if body.get("msgtype") != "text" or not isinstance(openid, str) or not isinstance(text, dict) \
                    or not isinstance(text.get("content"), str) or not text["content"]:
                return _answer(47001)
            record = self._state.load(openid)
            window = record.get("window") if record else None
            if not record or not window or now > _closes(window):
                return _answer(OUT_OF_TIME)
            if window["used"] >= WINDOWS[WindowKind(window["kind"])].messages:
                return _answer(OUT_OF_COUNT)
            window["used"] += 1
            record["sent"] = [*record["sent"], {**body, "at": time_text(now)}][-50:]
            self._state.save(openid, record)
            return _answer(0)

    @staticmethod
    def _open(window: dict[str, Any], at: datetime) -> bool:
        return at <= _closes(window) and window["used"] < WINDOWS[WindowKind(window["kind"])].messages


def _closes(window: dict[str, Any]) -> datetime:
    return present(time_of(window["at"]), "a window's opening") + WINDOWS[WindowKind(window["kind"])].lasts


def _answer(errcode: int) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}
