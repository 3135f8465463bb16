"""``getwxacodeunlimit`` played locally: the production client's request body is checked as
WeChat checks it (``wxacode.problem``: the scene's length and characters, the page, the width,
``env_version``) and answered with WeChat's errcodes, or with a PNG of a real QR code that a
phone's camera reads. A real mini-program code is WeChat's own round pattern, which only WeChat
draws; the simulator's QR holds what the mini-program would be opened with, the page and the
scene as its query: ``pages/console/login?scene=cl.Zb3…`` (``content``).

Told to fail: ``fail(errcode, times)`` answers ``errcode`` (None: unreachable) to the next
``times`` calls, as the shipping simulator does.
"""
from __future__ import annotations

import io
import threading
from typing import Any
from urllib.parse import quote

from chalicelib.domain.errors import Unavailable
from chalicelib.wechat.wxacode import ERRMSG, CodeRequest, problem, refusal

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def content(page: str, scene: str) -> str:
    """What the simulator's QR code holds: the page and the scene (URI-encoded, as the
    mini-program decodes it with ``decodeURIComponent``)."""
    return f"{page}?scene={quote(scene, safe='')}"


def draw_png(text: str, width: int) -> bytes:
    """A PNG of the QR code of ``text``, about ``width`` pixels wide (whole pixels per module)."""
    import segno

    code = segno.make_qr(text, error="m")
    modules = code.symbol_size(border=QUIET_ZONE)[0]
    out = io.BytesIO()
    code.save(out, kind="png", scale=max(1, width // modules), border=QUIET_ZONE)
    return out.getvalue()


class MiniProgramCodeSimulator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[int | None] = []
        self.requests: list[dict[str, Any]] = []  # the bodies received, in order

    def fail(self, errcode: int | None, times: int = 1) -> None:
        with self._lock:
            self._failures += [errcode] * times

    def unlimited(self, request: CodeRequest) -> tuple[str, bytes]:
        return self.receive(request.body())

    def receive(self, body: dict[str, Any]) -> tuple[str, bytes]:
        """WeChat's answer to one body: ``("image/png", bytes)``, or its refusal raised as the
        real client raises it."""
        with self._lock:
            self.requests.append(body)
            failure = self._failures.pop(0) if self._failures else 0
        if failure is None:
            raise Unavailable("WeChat mini-program code is unreachable (simulated); retry")
        errcode = failure or problem(body)
        if errcode:
            return refusal({"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")})
        return "image/png", draw_png(content(body["page"], body["scene"]), body.get("width", 430))
