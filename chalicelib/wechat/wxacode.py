"""Mini-program codes (小程序码) from ``getwxacodeunlimit`` (获取不限制的小程序码): the console's
sign-in code, and the posters' (issue 18).

``POST https://api.weixin.qq.com/wxa/getwxacodeunlimit?access_token=ACCESS_TOKEN`` with a JSON
body (never a form; the token only in the URL, never in the body: WeChat answers 47001)::

    {"scene": "cl.Zb3…",              # required: ≤ 32 visible characters of domain.console.SCENE_CHARS
     "page": "pages/console/login",   # no leading "/", no query (the query is the scene)
     "check_path": true,              # the page must exist in the published version
     "env_version": "release",        # release | trial | develop
     "width": 430}                    # 280–1280 px

The answer is the image itself (``Content-Type: image/jpeg`` or ``image/png``) on success and a
JSON ``{"errcode","errmsg"}`` otherwise: 40001/42001/40014 a stale token (a fresh one, once);
-1 busy and 45009 the per-minute limit (5,000 a minute): try again later; 41030 the page does not
exist or is not published, 40097 bad arguments (an empty ``env_version``), 40129 a scene of
characters WeChat refuses, 40169 a scene over 32 characters, 85096 ``scancode_time`` given,
47001 a body that is not JSON: our request is wrong, and the same request would be refused again.
The mini-program reads the scene in ``onLoad(query)`` as ``decodeURIComponent(query.scene)``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.console import valid_scene
from chalicelib.domain.errors import CodeRefused, Unavailable
from chalicelib.wechat.http import call_media
from chalicelib.wechat.token import TOKEN_INVALID, AccessToken

PATH = "/wxa/getwxacodeunlimit"
ENV_VERSIONS = frozenset({"release", "trial", "develop"})
MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 280, 1280, 430
RETRY_CODES = frozenset({-1, 45009})
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40097: "invalid args",
    40129: "invalid scene",
    40169: "invalid length for scene, or the data is not json string",
    41030: "invalid page",
    45009: "reach max api daily quota limit",
    47001: "data format error",
    85096: "not allow include scancode_time field",
}

@dataclass(frozen=True)
class CodeRequest:
    scene: str
    page: str
    env_version: str = "release"
    check_path: bool = True
    width: int = DEFAULT_WIDTH

    def body(self) -> dict[str, Any]:
        return {"scene": self.scene, "page": self.page, "check_path": self.check_path,
                "env_version": self.env_version, "width": self.width}


def problem(body: dict[str, Any]) -> int | None:
    """The errcode WeChat answers a body with, when we can tell without asking (the simulator
    answers it; the real client refuses to send a request it knows is wrong)."""
    scene, page = body.get("scene"), body.get("page", "")
    if not isinstance(scene, str) or not scene:
        return 40097
    if len(scene) > 32:
        return 40169
    if not valid_scene(scene):
        return 40129
    if "scancode_time" in body:
        return 85096
    if not isinstance(page, str) or page.startswith("/") or "?" in page:
        return 41030
    if body.get("env_version", "release") not in ENV_VERSIONS:
        return 40097
    width = body.get("width", DEFAULT_WIDTH)
    if not isinstance(width, int) or not MIN_WIDTH <= width <= MAX_WIDTH:
        return 40097
    return None


class MiniProgramCodes(Protocol):
    def unlimited(self, request: CodeRequest) -> tuple[str, bytes]:
        """The code's image: (media type, bytes). Unavailable when WeChat cannot draw it now;
        CodeRefused when it never will for this request."""


def media_type(content_type: str) -> str | None:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if kind.startswith("image/") else None


class RealMiniProgramCodes:
    """``getwxacodeunlimit`` with the process's shared access token."""

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def unlimited(self, request: CodeRequest) -> tuple[str, bytes]:
        import json

        body = request.body()
        if (errcode := problem(body)) is not None:
            raise CodeRefused(f"the code request would be refused ({errcode} {ERRMSG[errcode]})", wechat_errcode=errcode)
        deadline = time.monotonic() + 2 * self._token.budget.call_seconds()  # a token and the code
        data = json.dumps(body).encode()
        answer: dict[str, Any] = {}
        for attempt in range(2):
            token = self._token.get(refresh=attempt > 0, deadline=deadline)
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable("WeChat mini-program code took longer than its budget; retry")
            content_type, raw = call_media(self._token.http, "POST", f"{self._token.base}{PATH}?access_token={token}",
                                           self._token.budget.timeout(left), "WeChat mini-program code",
                                           body=data, headers={"Content-Type": "application/json"})
            if kind := media_type(content_type):
                return kind, raw
            answer = _json(raw)
            if answer.get("errcode") in TOKEN_INVALID and attempt == 0:
                continue
            break
        return refusal(answer)


def _json(raw: bytes) -> dict[str, Any]:
    import json

    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise Unavailable("WeChat mini-program code answered something unreadable; retry") from exc
    if not isinstance(answer, dict):
        raise Unavailable("WeChat mini-program code answered something unreadable; retry")
    return answer


def refusal(answer: dict[str, Any]) -> tuple[str, bytes]:
    errcode = answer.get("errcode")
    said = f"{errcode} {answer.get('errmsg', '')}".strip()[:200]
    if errcode in RETRY_CODES or errcode in TOKEN_INVALID:
        raise Unavailable(f"WeChat could not draw the mini-program code now ({said}); retry", wechat_errcode=errcode)
    raise CodeRefused(f"WeChat refused the mini-program code: {said}", wechat_errcode=errcode)
