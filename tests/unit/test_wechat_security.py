"""``msgSecCheck`` v2 (chalicelib/wechat/security.py): the simulator, and the real client with
its access token against a fake WeChat on loopback."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.security import RealContentSecurity, SecResult, SimulatorContentSecurity
from tests.unit.loopback import recording_posts, serve_on_loopback

# The simulator


@pytest.mark.parametrize(("text", "suggest"), [("好物推荐", "pass"), ("含有模拟违规的话", "risky"),
                                               ("含有模拟审核的话", "review")])
def test_the_simulator_answers_from_marker_words(text, suggest):
    assert SimulatorContentSecurity().check(text, "dev:alice", 4).suggest == suggest


def test_the_simulator_plays_an_unavailable_wechat():
    with pytest.raises(Unavailable):
        SimulatorContentSecurity().check("模拟故障", "dev:alice", 4)


# The real client against a fake WeChat


@dataclass
class FakeWechat:
    base: str = ""
    tokens: list[str] = field(default_factory=lambda: ["token-1", "token-2", "token-3"])
    checks: list[dict[str, Any]] = field(default_factory=list)  # answers of msg_sec_check, in order
    token_answer: dict[str, Any] | None = None
    requests: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = field(default_factory=list)

    def client(self, clock: list[float] | None = None) -> RealContentSecurity:
        now = clock or [0.0]
        return RealContentSecurity("wx-app", "app-secret", api_base=self.base, budget=HttpBudget(0.5, 0.5),
                                   monotonic=lambda: now[0])

    def answer(self, path: str) -> dict[str, Any]:
        if path == "/cgi-bin/stable_token":
            return self.token_answer or {"access_token": self.tokens.pop(0), "expires_in": 7200}
        if path == "/wxa/msg_sec_check":
            return self.checks.pop(0) if self.checks else _ok("pass")
        return {"errcode": 404}

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]


def _ok(suggest: str, label: int = 100) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", "trace_id": "t-1", "result": {"suggest": suggest, "label": label},
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}]}


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()

    with serve_on_loopback(recording_posts(fake.requests, fake.answer)) as base:
        fake.base = base
        yield fake


def test_a_check_gets_a_stable_token_then_posts_version_2_with_scene_and_openid(wechat):
    wechat.checks = [_ok("pass")]
    assert wechat.client().check("好物推荐", "o-1", 4, title="标题") == SecResult("pass", 100, "t-1")
    (token_path, _, token_body), (check_path, query, check_body) = wechat.requests
    assert token_path == "/cgi-bin/stable_token"
    assert token_body == {"grant_type": "client_credential", "appid": "wx-app", "secret": "app-secret",
                          "force_refresh": False}
    assert (check_path, query) == ("/wxa/msg_sec_check", {"access_token": ["token-1"]})
    assert check_body == {"content": "好物推荐", "version": 2, "scene": 4, "openid": "o-1", "title": "标题"}


@pytest.mark.parametrize(("suggest", "label"), [("review", 20001), ("risky", 20008)])
def test_wechats_suggest_and_label_are_reported(wechat, suggest, label):
    wechat.checks = [_ok(suggest, label)]
    assert wechat.client().check("x", "o-1", 4) == SecResult(suggest, label, "t-1")


def test_the_token_is_cached_until_a_minute_before_it_expires(wechat):
    clock = [0.0]
    client = wechat.client(clock)
    client.check("a", "o", 4)
    client.check("b", "o", 4)
    clock[0] = 7200 - 59
    client.check("c", "o", 4)
    assert wechat.paths().count("/cgi-bin/stable_token") == 2
    assert [q["access_token"] for p, q, _ in wechat.requests if p == "/wxa/msg_sec_check"] == [
        ["token-1"], ["token-1"], ["token-2"]]


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_an_invalid_or_expired_token_is_refreshed_once_and_the_check_retried(wechat, errcode):
    wechat.checks = [{"errcode": errcode, "errmsg": "invalid credential"}, _ok("review")]
    assert wechat.client().check("x", "o", 4).suggest == "review"
    assert wechat.paths() == ["/cgi-bin/stable_token", "/wxa/msg_sec_check", "/cgi-bin/stable_token",
                              "/wxa/msg_sec_check"]


def test_a_token_refused_twice_makes_the_check_unavailable(wechat):
    wechat.checks = [{"errcode": 40001}, {"errcode": 40001}]
    with pytest.raises(Unavailable):
        wechat.client().check("x", "o", 4)


def test_v1s_risky_errcode_87014_counts_as_risky(wechat):
    wechat.checks = [{"errcode": 87014, "errmsg": "risky content"}]
    assert wechat.client().check("x", "o", 4).suggest == "risky"


@pytest.mark.parametrize("answer", [{"errcode": -1, "errmsg": "system busy"}, {"errcode": 40003}, {"errcode": 43104},
                                    {"errcode": 0, "result": {"suggest": "maybe"}}, {"errcode": 0}],
                         ids=["busy", "bad-openid", "openid-of-another-app", "unknown-suggest", "no-result"])
def test_answers_that_say_nothing_about_the_text_make_the_check_unavailable(wechat, answer):
    wechat.checks = [answer]
    with pytest.raises(Unavailable) as unavailable:
        wechat.client().check("x", "o", 4)
    assert unavailable.value.kind.value == "unavailable"


def test_no_token_from_wechat_makes_the_check_unavailable(wechat):
    wechat.token_answer = {"errcode": 40125, "errmsg": "invalid appsecret"}
    with pytest.raises(Unavailable) as unavailable:
        wechat.client().check("x", "o", 4)
    assert unavailable.value.details == {"wechat_errcode": 40125}


def test_a_text_over_wechats_limit_is_checked_in_pieces_and_the_worst_verdict_wins(wechat):
    wechat.checks = [_ok("pass"), _ok("risky", 20008)]
    assert wechat.client().check("字" * 3000, "o", 4).suggest == "risky"
    assert [len(body["content"]) for p, _, body in wechat.requests if p == "/wxa/msg_sec_check"] == [2500, 500]


def test_an_unreachable_wechat_makes_the_check_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Unavailable):
        RealContentSecurity("wx", "s", api_base=f"http://127.0.0.1:{port}", budget=HttpBudget(0.3, 0.3)).check("x", "o", 4)
