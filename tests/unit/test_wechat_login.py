"""``jscode2session`` (chalicelib/wechat/login.py): the simulator, and the real client against a
fake WeChat on loopback."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.errors import Unavailable, WechatLoginFailed
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.login import RealLogin, SimulatorLogin, WechatIdentity
from tests.unit.loopback import serve_on_loopback

# SimulatorLogin


def test_the_simulator_logs_in_a_dev_code_as_that_name():
    assert SimulatorLogin().exchange("dev:alice") == WechatIdentity(openid="dev:alice", nickname="alice")


@pytest.mark.parametrize("code", ["alice", "dev:", "dev:a b", "dev:" + "a" * 33, "dev:alice\n"])
def test_the_simulator_refuses_codes_that_are_not_dev_names(code):
    with pytest.raises(WechatLoginFailed):
        SimulatorLogin().exchange(code)


# RealLogin against a fake WeChat


@dataclass
class FakeWechat:
    base: str = ""
    status: int = 200
    body: bytes = b"{}"
    stall: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)

    def answer(self, status: int = 200, body: object = None, raw: bytes | None = None) -> None:
        self.status, self.body = status, raw if raw is not None else json.dumps(body).encode()

    def client(self) -> RealLogin:
        return RealLogin("wx-app", "app-secret", api_base=self.base + "/", budget=HttpBudget(0.3, 0.3))


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            fake.requests.append((url.path, parse_qs(url.query)))
            if fake.stall:
                fake.release.wait(1.0)
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)
            except OSError:
                pass  # the client gave up waiting

        def log_message(self, *args: object) -> None:
            pass

    with serve_on_loopback(Handler, before_stop=fake.release.set) as base:
        fake.base = base
        yield fake


def test_a_valid_code_is_exchanged_for_the_openid_and_unionid(wechat):
    wechat.answer(body={"openid": "o-1", "session_key": "sk", "unionid": "u-1"})
    assert wechat.client().exchange("code-1") == WechatIdentity(openid="o-1", unionid="u-1")
    assert wechat.requests == [("/sns/jscode2session", {
        "appid": ["wx-app"], "secret": ["app-secret"], "js_code": ["code-1"], "grant_type": ["authorization_code"]})]


@pytest.mark.parametrize("errcode", [40029, 40163, 45011], ids=["invalid-code", "code-used", "rate-limited"])
def test_a_code_wechat_refuses_fails_the_login_with_wechats_errcode(wechat, errcode):
    wechat.answer(body={"errcode": errcode, "errmsg": "refused"})
    with pytest.raises(WechatLoginFailed) as refused:
        wechat.client().exchange("code-1")
    assert refused.value.details == {"wechat_errcode": errcode}


def test_an_answer_without_an_openid_fails_the_login(wechat):
    wechat.answer(body={"session_key": "sk"})
    with pytest.raises(WechatLoginFailed):
        wechat.client().exchange("code-1")


@pytest.mark.parametrize(("status", "body"), [
    (200, b'{"errcode": -1, "errmsg": "system error"}'),
    (500, b'{"openid": "o-1"}'),
    (200, b"<html>busy</html>"),
    (200, b'["openid"]'),
], ids=["wechat-busy", "http-500", "not-json", "json-but-not-an-object"])
def test_a_busy_or_broken_wechat_makes_login_unavailable_for_a_retry(wechat, status, body):
    wechat.answer(status, raw=body)
    with pytest.raises(Unavailable):
        wechat.client().exchange("code-1")


def test_a_wechat_that_does_not_answer_within_the_timeout_makes_login_unavailable(wechat):
    wechat.stall = True
    with pytest.raises(Unavailable):
        wechat.client().exchange("code-1")


def test_an_unreachable_wechat_makes_login_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed on leaving: nothing listens there
    with pytest.raises(Unavailable):
        RealLogin("wx-app", "s", api_base=f"http://127.0.0.1:{port}", budget=HttpBudget(0.3, 0.3)).exchange("code-1")
