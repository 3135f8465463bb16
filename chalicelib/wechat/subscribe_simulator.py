"""WeChat's ``subscribeMessage.send`` played locally, speaking its protocol: the production code
builds the body (``subscribe.send_body``) and the simulator checks it as WeChat does (the value
limits of 订阅消息参数值内容限制 per key type), answers ``{"errcode","errmsg"}`` and remembers
what it delivered (per openid, and the newest 100 overall for ``GET /v1/dev/subscribe-messages``)
in a ``SimulatorState``: in DynamoDB with the mall's data in simulator mode.

WeChat's own count of one-time subscriptions is the mini-program's and WeChat's business; the
simulator plays the refusal a user makes in WeChat's settings: ``cancel(openid, template_id)``
answers 43101 to that user's messages of that template. ``fail(errcode, times)`` answers
``errcode`` (None: unreachable, raising Unavailable) to the next ``times`` sends.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.subscriptions import LIMITS, Message, Verdict, key_type
from chalicelib.wechat.simulator_state import MemoryState, Record, SimulatorState, time_text
from chalicelib.wechat.subscribe import ERRMSG, USER_REFUSED, send_body, verdict

RECENT = "recent"
KEEP_PER_USER, KEEP_RECENT = 50, 100
_CJK = r"\u4e00-\u9fff"
_CHECKS: dict[str, Callable[[str], bool]] = {
    "thing": lambda v: 0 < len(v) <= LIMITS["thing"] and "\n" not in v,
    "number": lambda v: re.fullmatch(r"\d{1,32}(\.\d+)?", v) is not None and len(v) <= 32,
    "letter": lambda v: re.fullmatch(r"[A-Za-z]{1,32}", v) is not None,
    "symbol": lambda v: 0 < len(v) <= 5 and not re.search(rf"[A-Za-z0-9{_CJK}\s]", v),
    "character_string": lambda v: re.fullmatch(r"[\x21-\x7e]{1,32}", v) is not None,
    "time": lambda v: re.fullmatch(r"(\d{4}年\d{1,2}月\d{1,2}日 ?)?\d{1,2}:\d{2}(:\d{2})?", v.split("~")[0]) is not None,
    "date": lambda v: re.fullmatch(r"\d{4}[年\-/.]\d{1,2}([月\-/.]\d{1,2}日?)?( \d{1,2}:\d{2}(:\d{2})?)?",
                                   v.split("~")[0]) is not None,
    "amount": lambda v: re.fullmatch(r"[¥￥$]?\d{1,10}(\.\d{1,2})?元?", v) is not None,
    "phone_number": lambda v: re.fullmatch(r"[\d+\-]{1,17}", v) is not None,
    "car_number": lambda v: 0 < len(v) <= 8,
    "name": lambda v: re.fullmatch(rf"[{_CJK}]{{1,10}}|[A-Za-z .·\-]{{1,20}}", v) is not None,
    "phrase": lambda v: re.fullmatch(rf"[{_CJK}]{{1,5}}", v) is not None,
}
_PAGE = re.compile(r"^[A-Za-z0-9_\-/.]+(\?[^\s]*)?$")


class SubscribeSimulator:
    def __init__(self, state: SimulatorState | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._state = state or MemoryState()
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: list[int | None] = []
        self.calls = 0

    def fail(self, errcode: int | None, times: int = 1) -> None:
        """Answer ``errcode`` (None: unreachable) to the next ``times`` sends."""
        with self._lock:
            self._failures += [errcode] * times

    def cancel(self, openid: str, template_id: str) -> None:
        """The user turned this template off in WeChat: 43101 from now on."""
        with self._lock:
            record = self._state.load(openid) or {"sent": []}
            record["cancelled"] = sorted({*record.get("cancelled", []), template_id})
            self._state.save(openid, record)

    def sent(self, openid: str) -> list[dict[str, Any]]:
        """The bodies WeChat delivered to this user, in order."""
        record = self._state.load(openid)
        return list(record["sent"]) if record else []

    def recent(self) -> list[dict[str, Any]]:
        """The newest bodies delivered to anyone, newest first."""
        record = self._state.load(RECENT)
        return list(reversed(record["sent"])) if record else []

    # the port -----------------------------------------------------------------------------

    def send(self, message: Message, state: str, lang: str) -> tuple[Verdict, str | None]:
        return verdict(self.receive(send_body(message, state, lang)))

    def receive(self, body: dict[str, Any]) -> dict[str, Any]:
        """WeChat's answer to one ``subscribeMessage.send`` body."""
        with self._lock:
            self.calls += 1
            if self._failures:
                errcode = self._failures.pop(0)
                if errcode is None:
                    raise Unavailable("WeChat subscribe message is unreachable (simulated); retry")
                return _answer(errcode)
            problem = _check(body)
            if problem is not None:
                return problem
            record: Record = self._state.load(body["touser"]) or {"sent": []}
            if body["template_id"] in record.get("cancelled", []):
                return _answer(USER_REFUSED)
            delivered = {**body, "at": time_text(self._clock())}
            record["sent"] = [*record["sent"], delivered][-KEEP_PER_USER:]
            self._state.save(body["touser"], record)
            recent: Record = self._state.load(RECENT) or {"sent": []}
            recent["sent"] = [*recent["sent"], delivered][-KEEP_RECENT:]
            self._state.save(RECENT, recent)
            return {**_answer(0), "msgid": self.calls}


def _check(body: dict[str, Any]) -> dict[str, Any] | None:
    if not isinstance(body.get("touser"), str) or not body["touser"]:
        return _answer(40003)
    if not isinstance(body.get("template_id"), str) or not body["template_id"]:
        return _answer(40037)
    if "page" in body and (not isinstance(body["page"], str) or not _PAGE.match(body["page"])):
        return _answer(41030)
    if body.get("miniprogram_state", "formal") not in ("developer", "trial", "formal"):
        return _answer(47003, "miniprogram_state")
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        return _answer(47003, "data")
    for key, entry in data.items():
        kind = key_type(key)
        value = entry.get("value") if isinstance(entry, dict) else None
        if kind is None or not isinstance(value, str) or not _CHECKS[kind](value):
            return _answer(47003, f"data.{key}.value")
    return None


def _answer(errcode: int, detail: str | None = None) -> dict[str, Any]:
    message = ERRMSG.get(errcode, "error")
    return {"errcode": errcode, "errmsg": f"{message} {detail}" if detail else message}
