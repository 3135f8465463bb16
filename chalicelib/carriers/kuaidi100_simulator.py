"""快递100 played locally, speaking its protocol: it receives the forms the real client sends
(``kuaidi100.subscribe_form``, ``query_form``), checks them as 快递100 does, remembers what it
watches (with the callback URL and salt it was given) and, told to play a scenario, writes the
parcel's next steps and the push 快递100 would send: ``param`` and its ``sign`` (MD5 of param and
the subscription's salt). ``make dev`` delivers that push to the real callback handler
(``POST /v1/dev/tracking/{subject}``), as the Pay simulator does its notifications.

Scenarios: ``in_transit`` (揽收 the first time, then 在途 at the next hub), ``delivered`` (派件
then 签收: 快递100 stops watching, status shutdown), ``returned`` (退回 then 退签, shutdown).

Told to fail: ``fail(returnCode | None, times)`` answers the next ``times`` calls with that code
(None: unreachable); a tracking number starting ``SIMDOWN`` is always unreachable.
"""
from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.carriers.kuaidi100 import (
    STEP_TIME,
    Parcel,
    push_param,
    query_form,
    query_report,
    step_entry,
    subscribe_form,
    subscribe_verdict,
)
from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.tracking import KUAIDI100_COMPANIES, PHONE_REQUIRED, Report, push_sign, query_sign

NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
COMPANIES = frozenset(KUAIDI100_COMPANIES.values())
MESSAGES = {"200": "提交成功", "501": "重复订阅", "600": "您不是合法的订阅者", "700": "订阅方的订阅数据存在错误",
            "701": "拒绝订阅的快递公司", "500": "服务器错误", "503": "验证签名失败", "400": "参数错误"}
SCENARIOS: dict[str, list[tuple[int, str, str]]] = {  # (state, status word, what the carrier writes)
    "in_transit": [(0, "在途", "快件已到达【{hub}转运中心】，准备发往下一站")],
    "delivered": [(5, "派件", "快件正在派送中，派件员：张师傅 138****0000"),
                  (3, "签收", "快件已签收，签收人：本人，感谢使用")],
    "returned": [(6, "退回", "收件人拒收，快件退回中"), (4, "退签", "快件已退回寄件人并签收")],
}
COLLECTED = (1, "揽收", "【上海市浦东新区】已揽收")
HUBS = ("上海", "杭州", "南京", "合肥", "武汉", "广州")


class Memory(Protocol):
    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, record: dict[str, Any]) -> None: ...


class Kuaidi100Simulator:
    def __init__(self, key: str, customer: str, state: Memory) -> None:
        self.key, self.customer = key, customer
        self._state = state
        self._lock = threading.Lock()
        self._failures: list[str | None] = []
        self.calls = 0

    def fail(self, code: str | None, times: int = 1) -> None:
        """Answer the next ``times`` calls with returnCode ``code`` (None: unreachable)."""
        with self._lock:
            self._failures += [code] * times

    def watched(self, company: str, number: str) -> dict[str, Any] | None:
        """What it remembers of a parcel (its subscription and steps), or None."""
        return self._state.load(f"{company}#{number}")

    # the port -----------------------------------------------------------------------------

    def subscribe(self, parcel: Parcel, url: str, salt: str) -> tuple[bool | None, str | None]:
        return subscribe_verdict(self.receive_subscribe(subscribe_form(parcel, self.key, url, salt)))

    def query(self, parcel: Parcel) -> tuple[Report | None, str | None]:
        return query_report(self.receive_query(query_form(parcel, self.key, self.customer)))

    # 快递100's side -----------------------------------------------------------------------

    def receive_subscribe(self, form: dict[str, str]) -> dict[str, Any]:
        """快递100's answer to a subscription form."""
        with self._lock:
            told = self._failing(form)
            if told is not None:
                return told
            if form.get("schema") != "json":
                return _code("700", "schema must be json")
            try:
                param = json.loads(form.get("param") or "")
                company, number, key = param["company"], param["number"], param["key"]
                parameters = param["parameters"]
                url, salt = parameters["callbackurl"], parameters.get("salt") or ""
            except (ValueError, KeyError, TypeError):
                return _code("700")
            if key != self.key:
                return _code("600")
            if company not in COMPANIES:
                return _code("701")
            if not isinstance(number, str) or not NUMBER.match(number) or not str(url).startswith(("http://", "https://")):
                return _code("700")
            if company in PHONE_REQUIRED and not parameters.get("phone"):
                return _code("700", "顺丰单号需提供收、寄件人的电话号码")
            record = self.watched(company, number)
            if record and record["status"] == "polling":
                return _code("501")
            record = record or {"status": "polling", "state": 0, "data": []}
            record.update(status="polling", callbackurl=url, salt=salt, phone=parameters.get("phone"))
            self._state.save(f"{company}#{number}", record)
            return _code("200")

    def receive_query(self, form: dict[str, str]) -> dict[str, Any]:
        """快递100's answer to a real-time query form."""
        with self._lock:
            told = self._failing(form)
            if told is not None:
                return told
            text = form.get("param") or ""
            if form.get("customer") != self.customer or form.get("sign") != query_sign(text, self.key, self.customer):
                return _code("503")
            try:
                param = json.loads(text)
                company, number = param["com"], param["num"]
            except (ValueError, KeyError, TypeError):
                return _code("400")
            record = self.watched(company, number)
            if not record or not record["data"]:
                return {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
            return {"message": "ok", "nu": number, "ischeck": "1" if record["state"] == 3 else "0",
                    "condition": "F00", "com": company, "status": "200", "state": str(record["state"]),
                    "data": record["data"]}

    def play(self, company: str, number: str, scenario: str, now: datetime) -> tuple[str, dict[str, str]]:
        """The parcel's next steps for ``scenario``, and the push 快递100 sends for them: the
        callback URL and the form (param, sign). KeyError: it watches no such parcel."""
        with self._lock:
            record = self.watched(company, number)
            if record is None or "callbackurl" not in record:
                raise KeyError(f"快递100 watches no parcel {company} {number}")
            moves = ([COLLECTED] if not record["data"] else []) + SCENARIOS[scenario]
            at = max(now - timedelta(minutes=10 * len(moves)), _newest(record) + timedelta(minutes=1))
            hub = HUBS[len(record["data"]) % len(HUBS)]
            for n, (state, status, text) in enumerate(moves):
                record["data"].insert(0, step_entry(at + timedelta(minutes=10 * n), text.format(hub=hub), status))
                record["state"] = state
            record["status"] = "shutdown" if record["state"] in (3, 4) else "polling"
            self._state.save(f"{company}#{number}", record)
            param = push_param(record["status"], company, number, record["state"], record["data"])
            return record["callbackurl"], {"param": param, "sign": push_sign(param, record["salt"])}

    def _failing(self, form: dict[str, str]) -> dict[str, Any] | None:
        """The answer it was told to give to this call (None: none); Unavailable when told to be
        unreachable, or for a SIMDOWN parcel."""
        self.calls += 1
        told = self._failures.pop(0) if self._failures else "-"
        if told is None or '"SIMDOWN' in (form.get("param") or ""):
            raise Unavailable("快递100 is unreachable (simulated); retry")
        return None if told == "-" else _code(told)


def _code(code: str, message: str | None = None) -> dict[str, Any]:
    return {"result": code == "200", "returnCode": code, "message": message or MESSAGES.get(code, "")}


def _newest(record: dict[str, Any]) -> datetime:
    if not record["data"]:
        return datetime.min.replace(tzinfo=SHANGHAI)
    return datetime.strptime(record["data"][0]["time"], STEP_TIME).replace(tzinfo=SHANGHAI)
