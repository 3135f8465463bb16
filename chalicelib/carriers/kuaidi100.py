"""快递100 (kuaidi100.com)'s tracking protocol: subscribe, the signed push, the real-time query.

**Subscribe** (订阅): ``POST https://poll.kuaidi100.com/poll``, a form
``schema=json&param=<JSON>`` where param is
``{"company":"shunfeng","number":"SF123…","key":"<授权key>","parameters":{"callbackurl":"<our URL>",
"salt":"<the parcel's salt>","resultv2":"1","phone":"<SF needs it>"}}``; answered
``{"result":true,"returnCode":"200","message":"提交成功"}`` or a returnCode: 501 重复订阅 (the
parcel is already watched: as good as accepted), 700 bad data or callback, 701 a carrier it
refuses, 702 a number it cannot place (refused: the same request would be refused again), 600
and 601 the key wrong or expired, 500 its own error (tried again: an operator can fix a key).

**Push** (推送): 快递100 posts to the callback URL a form ``param=<JSON>&sign=<MD5(param+salt),
upper-case>`` with ``{"status":"polling|shutdown|abort|updateall","billstatus":…,"message":…,
"autoCheck":"0","comOld":"","comNew":"","lastResult":{"message":"ok","state":"0","status":"200",
"condition":"F00","ischeck":"0","com":"yuantong","nu":"YT…","data":[{"context":"…","time":
"2026-12-06 10:01:02","ftime":"…","status":"在途"}, …]}}`` (data newest first, the whole
history each time) and expects ``{"result":true,"returnCode":"200","message":"成功"}``; anything
else, and it pushes again later.

**Real-time query** (实时查询, the fallback for a parcel without news): ``POST
https://poll.kuaidi100.com/poll/query.do``, a form ``customer=<公司编号>&sign=<MD5(param+key+
customer), upper-case>&param={"com","num","phone"?,"resultv2":"1"}``; answered as ``lastResult``
above (``message`` "ok", ``state``, ``data``) or ``{"result":false,"returnCode":"…","message":…}``
(500: no result yet, 503: bad sign, 400: bad parameters, 601: the key expired).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import urllib3

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.tracking import InvalidCallback, Report, Step, query_sign, state_of, step

SUBSCRIBE_PATH = "/poll"
QUERY_PATH = "/poll/query.do"
RESULT_V2 = "1"  # main states, and each step's status word
CALLBACK_PATH = "/v1/tracking/kuaidi100/{subject}"
ACCEPTED_CODES = frozenset({"200", "501"})  # accepted; already watched
RETRY_CODES = frozenset({"500", "600", "601"})
ENDED = frozenset({"shutdown", "abort"})
STEP_TIME = "%Y-%m-%d %H:%M:%S"
ANSWER_OK = {"result": True, "returnCode": "200", "message": "成功"}


@dataclass(frozen=True)
class Parcel:
    company: str  # 快递100's code
    number: str
    phone: str | None = None


def callback_url(base: str, subject: str) -> str:
    return base.rstrip("/") + CALLBACK_PATH.format(subject=subject)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def subscribe_form(parcel: Parcel, key: str, url: str, salt: str) -> dict[str, str]:
    parameters = {"callbackurl": url, "salt": salt, "resultv2": RESULT_V2}
    if parcel.phone:
        parameters["phone"] = parcel.phone
    param = {"company": parcel.company, "number": parcel.number, "key": key, "parameters": parameters}
    return {"schema": "json", "param": _json(param)}


def subscribe_verdict(answer: dict[str, Any]) -> tuple[bool | None, str | None]:
    """True: watched (accepted, or already); False: refused; None: try again later."""
    code = str(answer.get("returnCode", ""))
    if answer.get("result") is True or code in ACCEPTED_CODES:
        return True, None
    said = f"{code} {answer.get('message', '')}".strip()[:200]
    return (None if code in RETRY_CODES or not code else False), said


def query_form(parcel: Parcel, key: str, customer: str) -> dict[str, str]:
    param: dict[str, str] = {"com": parcel.company, "num": parcel.number, "resultv2": RESULT_V2}
    if parcel.phone:
        param["phone"] = parcel.phone
    text = _json(param)
    return {"customer": customer, "sign": query_sign(text, key, customer), "param": text}


def query_report(answer: dict[str, Any]) -> tuple[Report | None, str | None]:
    """The parcel's report, or None and why (no result yet, or 快递100 refused the query)."""
    if answer.get("message") == "ok" and isinstance(answer.get("data"), list):
        return last_result(answer, ended=False), None
    return None, f"{answer.get('returnCode', '')} {answer.get('message', '')}".strip()[:200]


def last_result(result: dict[str, Any], ended: bool) -> Report:
    """A ``lastResult`` (or a query's answer) as a report. InvalidCallback when it is not one."""
    try:
        steps = tuple(_step(entry) for entry in result.get("data") or [])
        return Report(str(result["com"]), str(result["nu"]), state_of(int(result.get("state") or 0)), steps, ended)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCallback("the carrier's result is not one 快递100 sends") from exc


def _step(entry: dict[str, Any]) -> Step:
    at = datetime.strptime(str(entry.get("time") or entry["ftime"]), STEP_TIME).replace(tzinfo=SHANGHAI)
    return step(at, str(entry["context"]), str(entry.get("status") or ""))


def read_push(param: str) -> Report:
    """A push's ``param`` (verified first: its sign is checked by the caller) as a report."""
    try:
        body = json.loads(param)
        if not isinstance(body, dict) or not isinstance(body.get("lastResult"), dict):
            raise InvalidCallback("param has no lastResult")
    except ValueError as exc:
        raise InvalidCallback("param is not JSON") from exc
    return last_result(body["lastResult"], ended=body.get("status") in ENDED)


def push_param(status: str, company: str, number: str, state: int, data: list[dict[str, str]]) -> str:
    """A push's ``param`` as 快递100 writes it (the simulator's; tests build theirs with it)."""
    return _json({"status": status, "billstatus": "got", "message": "", "autoCheck": "0", "comOld": "",
                  "comNew": "", "lastResult": {"message": "ok", "state": str(state), "status": "200",
                                               "condition": "F00", "ischeck": "1" if state == 3 else "0",
                                               "com": company, "nu": number, "data": data}})


def step_entry(at: datetime, context: str, status: str) -> dict[str, str]:
    text = at.astimezone(SHANGHAI).strftime(STEP_TIME)
    return {"context": context, "time": text, "ftime": text, "status": status}


class Tracker(Protocol):
    def subscribe(self, parcel: Parcel, url: str, salt: str) -> tuple[bool | None, str | None]:
        """Ask 快递100 to watch a parcel and push to ``url``; see ``subscribe_verdict``. Raises
        Unavailable when it could not be reached."""
        ...

    def query(self, parcel: Parcel) -> tuple[Report | None, str | None]:
        """The parcel's steps now (the real-time query); None and why when there are none. Raises
        Unavailable when 快递100 could not be reached."""
        ...


class RealKuaidi100:
    """The two calls over HTTPS, each within the outside-call budget (docs/ops.md)."""

    def __init__(self, key: str, customer: str, api_base: str, connect_seconds: float, read_seconds: float) -> None:
        self._key, self._customer, self._base = key, customer, api_base.rstrip("/")
        self._timeout = urllib3.Timeout(connect=connect_seconds, read=read_seconds)
        self._http = urllib3.PoolManager(retries=urllib3.Retry(total=1, connect=1, read=0, status=0, other=0,
                                                               redirect=0), timeout=self._timeout)

    def subscribe(self, parcel: Parcel, url: str, salt: str) -> tuple[bool | None, str | None]:
        return subscribe_verdict(self._post(SUBSCRIBE_PATH, subscribe_form(parcel, self._key, url, salt)))

    def query(self, parcel: Parcel) -> tuple[Report | None, str | None]:
        return query_report(self._post(QUERY_PATH, query_form(parcel, self._key, self._customer)))

    def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._http.request("POST", self._base + path, body=urlencode(form).encode(),
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable("快递100 is unreachable; retry") from exc
        if response.status >= 500:
            raise Unavailable("快递100 answered an error; retry", status=response.status)
        try:
            answer = json.loads(response.data)
        except ValueError as exc:
            raise Unavailable("快递100 answered something unreadable; retry") from exc
        if not isinstance(answer, dict):
            raise Unavailable("快递100 answered something unreadable; retry")
        return answer
