"""``getwxacodeunlimit``: the real client against a loopback WeChat, and the simulator's checks
(the same ``problem`` function judges a body on both sides)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.domain.console import is_login_scene, new_login_scene, valid_scene
from chalicelib.domain.errors import CodeRefused, Unavailable
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.token import AccessToken
from chalicelib.wechat.wxacode import CodeRequest, RealMiniProgramCodes, problem
from chalicelib.wechat.wxacode_simulator import MiniProgramCodeSimulator, content
from tests.unit.loopback import answering, serve_on_loopback
from tests.unit.qr import qr_holds

PNG = b"\x89PNG\r\n\x1a\n-a-code"
BUDGET = HttpBudget(connect_seconds=1, read_seconds=2)


class FakeWechat:
    """Tokens tok-1, tok-2, ...; the code route answers from ``answers`` in turn (bytes: the
    image; a dict: a JSON errcode)."""

    def __init__(self, *answers: bytes | dict[str, Any]) -> None:
        self.answers, self.tokens, self.calls = list(answers), 0, []

    def __call__(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        if path.startswith("/cgi-bin/stable_token"):
            self.tokens += 1
            return 200, json.dumps({"access_token": f"tok-{self.tokens}", "expires_in": 7200}).encode(), {}
        self.calls.append((path, headers.get("Content-Type"), json.loads(raw)))
        answer = self.answers.pop(0)
        if isinstance(answer, bytes):
            return 200, answer, {"Content-Type": "image/jpeg"}
        return 200, json.dumps(answer).encode(), {"Content-Type": "application/json; encoding=utf-8"}


def _client(base: str) -> RealMiniProgramCodes:
    return RealMiniProgramCodes(AccessToken("wx-app", "secret", base, budget=BUDGET))


REQUEST = CodeRequest("cl.AAAAAAAAAAAAAAAAAAAAAA", "pages/console/login")


def test_the_code_is_asked_with_a_json_body_and_the_token_only_in_the_url() -> None:
    wechat = FakeWechat(PNG)
    with serve_on_loopback(answering(wechat)) as base:
        assert _client(base).unlimited(REQUEST) == ("image/jpeg", PNG)
    path, content_type, body = wechat.calls[0]
    assert path == "/wxa/getwxacodeunlimit?access_token=tok-1" and content_type == "application/json"
    assert body == {"scene": REQUEST.scene, "page": "pages/console/login", "check_path": True,
                    "env_version": "release", "width": 430}


def test_a_stale_token_is_refreshed_once() -> None:
    wechat = FakeWechat({"errcode": 40001, "errmsg": "invalid credential"}, PNG)
    with serve_on_loopback(answering(wechat)) as base:
        assert _client(base).unlimited(REQUEST)[1] == PNG
    assert [c[0].rsplit("=", 1)[1] for c in wechat.calls] == ["tok-1", "tok-2"]


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_busy_or_over_the_minute_limit_is_try_again(errcode: int) -> None:
    wechat = FakeWechat({"errcode": errcode, "errmsg": "x"})
    with serve_on_loopback(answering(wechat)) as base, pytest.raises(Unavailable):
        _client(base).unlimited(REQUEST)


def test_a_page_wechat_does_not_know_is_refused_for_good() -> None:
    wechat = FakeWechat({"errcode": 41030, "errmsg": "invalid page"})
    with serve_on_loopback(answering(wechat)) as base, pytest.raises(CodeRefused, match="41030"):
        _client(base).unlimited(REQUEST)


def test_a_request_wechat_would_refuse_is_never_sent() -> None:
    wechat = FakeWechat()
    with serve_on_loopback(answering(wechat)) as base, pytest.raises(CodeRefused, match="40169"):
        _client(base).unlimited(CodeRequest("x" * 33, "pages/console/login"))
    assert wechat.calls == [] and wechat.tokens == 0


@pytest.mark.parametrize(("body", "errcode"), [
    ({"scene": "x" * 33, "page": "p"}, 40169),
    ({"scene": "中文", "page": "p"}, 40129),
    ({"scene": "a%20b", "page": "p"}, 40129),
    ({"scene": "", "page": "p"}, 40097),
    ({"scene": "ok", "page": "/pages/index"}, 41030),
    ({"scene": "ok", "page": "pages/index?a=1"}, 41030),
    ({"scene": "ok", "page": "p", "env_version": ""}, 40097),
    ({"scene": "ok", "page": "p", "width": 279}, 40097),
    ({"scene": "ok", "page": "p", "width": 1281}, 40097),
    ({"scene": "ok", "page": "p", "scancode_time": 1}, 85096),
    ({"scene": "!#$&'()*+,/:;=?@-._~09azAZ", "page": "p", "width": 1280, "env_version": "develop"}, None),
])
def test_what_wechat_refuses_in_a_body(body: dict[str, Any], errcode: int | None) -> None:
    assert problem(body) == errcode


def test_the_simulator_draws_a_qr_code_of_the_page_and_the_scene() -> None:
    kind, png = MiniProgramCodeSimulator().unlimited(REQUEST)
    assert kind == "image/png"
    assert qr_holds(png, f"pages/console/login?scene={REQUEST.scene}")
    assert not qr_holds(png, "pages/console/login?scene=cl.BBBBBBBBBBBBBBBBBBBBBB")


def test_the_simulator_answers_what_wechat_answers_and_fails_when_told() -> None:
    simulator = MiniProgramCodeSimulator()
    with pytest.raises(CodeRefused, match="40169"):
        simulator.unlimited(CodeRequest("x" * 33, "p"))
    simulator.fail(45009)
    with pytest.raises(Unavailable):
        simulator.unlimited(REQUEST)
    simulator.fail(None)
    with pytest.raises(Unavailable):
        simulator.unlimited(REQUEST)
    assert simulator.unlimited(REQUEST)[0] == "image/png"


def test_the_qr_text_encodes_a_scene_as_the_mini_program_decodes_it() -> None:
    assert content("pages/a", "k=v&x") == "pages/a?scene=k%3Dv%26x"


def test_a_login_scene_is_a_valid_scene_of_128_random_bits() -> None:
    scenes = {new_login_scene() for _ in range(200)}
    assert len(scenes) == 200
    assert all(valid_scene(s) and is_login_scene(s) and len(s) == 25 for s in scenes)
    assert not is_login_scene("pr.AAAA") and not valid_scene("x" * 33)
