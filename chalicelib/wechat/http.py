"""Calling WeChat's JSON APIs (``api.weixin.qq.com``): what counts as "try again"."""
from __future__ import annotations

import json
from typing import Any

import urllib3

from chalicelib.domain.errors import Unavailable


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
