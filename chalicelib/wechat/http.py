"""Calling WeChat: every call's time budget, and for the JSON APIs (``api.weixin.qq.com``) what
counts as "try again"."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import urllib3

from chalicelib.domain.errors import Unavailable


@dataclass(frozen=True)
class HttpBudget:
    """How long one call to WeChat may take (docs/ops.md "Time budgets"): a connect that failed is
    tried once more (the request never left); a request that left is never sent again (a
    ``jscode2session`` code is single-use; a Pay call is retried by its caller, with the same
    number)."""

    connect_seconds: float
    read_seconds: float

    def call_seconds(self) -> float:
        """The most one call takes: a connect that timed out, a second one, then the read."""
        return 2 * self.connect_seconds + self.read_seconds

    def timeout(self, left: float | None = None) -> urllib3.Timeout:
        """One call's timeout; ``left``, the seconds left of a larger budget, caps it."""
        if left is None:
            return urllib3.Timeout(connect=self.connect_seconds, read=self.read_seconds)
        return urllib3.Timeout(connect=min(self.connect_seconds, left), read=min(self.read_seconds, left))

    def pool(self) -> urllib3.PoolManager:
        return urllib3.PoolManager(retries=urllib3.Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0),
                                   timeout=self.timeout())


def configured_budget() -> HttpBudget:
    """The budget the settings give (WECHAT_CONNECT_TIMEOUT_SECONDS, WECHAT_READ_TIMEOUT_SECONDS)."""
    from chalicelib.config import get_settings

    budgets = get_settings().budgets
    return HttpBudget(budgets.wechat_connect_seconds, budgets.wechat_read_seconds)


def call_json(http: urllib3.PoolManager, method: str, url: str, timeout: urllib3.Timeout, what: str,
              **request: Any) -> dict[str, Any]:
    """The JSON object WeChat answered. Unreachable, a 5xx, or an answer that is not a JSON object
    raises Unavailable (503, retry): none of them says anything about the caller's input.
    WeChat's own ``errcode`` is left to the caller, who knows what each one means."""
    try:
        response = http.request(method, url, timeout=timeout, **request)
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"{what} is unreachable; retry") from exc
    if response.status >= 500:
        raise Unavailable(f"{what} answered an error; retry", wechat_status=response.status)
    try:
        answer = json.loads(response.data)
    except ValueError as exc:
        raise Unavailable(f"{what} answered something unreadable; retry") from exc
    if not isinstance(answer, dict):
        raise Unavailable(f"{what} answered something unreadable; retry")
    return answer


def call_media(http: urllib3.PoolManager, method: str, url: str, timeout: urllib3.Timeout, what: str,
               **request: Any) -> tuple[str, bytes]:
    """An API that answers a file on success and a JSON ``errcode`` otherwise (the mini-program
    codes): the answer's Content-Type and bytes. Unreachable or a 5xx raises Unavailable."""
    try:
        response = http.request(method, url, timeout=timeout, **request)
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"{what} is unreachable; retry") from exc
    if response.status >= 500:
        raise Unavailable(f"{what} answered an error; retry", wechat_status=response.status)
    return str(response.headers.get("Content-Type", "")), bytes(response.data)
