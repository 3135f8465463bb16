"""``customerServiceMessage.send`` (chalicelib/wechat/customer_service.py): the simulator's
window as WeChat keeps it, and the real client against a fake WeChat on loopback."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.support import ReplyLimitReached, ReplyWindowClosed, WindowKind
from chalicelib.wechat.customer_service import (
    CustomerServiceSimulator,
    RealCustomerService,
    ReplyRefused,
    send_body,
)
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.token import AccessToken
from tests.unit.loopback import recording_posts, serve_on_loopback

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def test_the_simulator_delivers_five_messages_in_48_hours_after_the_users_message():
    sim = CustomerServiceSimulator()
    sim.user_acted("o-1", WindowKind.MESSAGE, NOW)
    for i in range(5):
        sim.send_text("o-1", f"回复{i}", NOW + timedelta(hours=1))
    with pytest.raises(ReplyLimitReached):
        sim.send_text("o-1", "第六条", NOW + timedelta(hours=1))
    assert [b["text"]["content"] for b in sim.sent("o-1")] == [f"回复{i}" for i in range(5)]


def test_the_simulator_refuses_a_user_who_never_wrote_or_wrote_too_long_ago():
    sim = CustomerServiceSimulator()
    with pytest.raises(ReplyWindowClosed):
        sim.send_text("o-1", "你好", NOW)
    sim.user_acted("o-1", WindowKind.MESSAGE, NOW)
    with pytest.raises(ReplyWindowClosed):
        sim.send_text("o-1", "你好", NOW + timedelta(hours=48, seconds=1))
    assert sim.sent("o-1") == []


def test_entering_gives_two_messages_for_a_minute_and_never_cuts_a_message_window():
    sim = CustomerServiceSimulator()
    sim.user_acted("o-1", WindowKind.SESSION, NOW)
    sim.send_text("o-1", "1", NOW)
    sim.send_text("o-1", "2", NOW)
    with pytest.raises(ReplyLimitReached):
        sim.send_text("o-1", "3", NOW)
    sim.user_acted("o-2", WindowKind.MESSAGE, NOW)
    sim.user_acted("o-2", WindowKind.SESSION, NOW + timedelta(hours=1))
    sim.send_text("o-2", "still the message window", NOW + timedelta(hours=2))


def test_the_simulator_checks_the_body_and_can_be_told_to_fail():
    sim = CustomerServiceSimulator()
    sim.user_acted("o-1", WindowKind.MESSAGE, NOW)
    assert sim.receive({"touser": "o-1", "msgtype": "text", "text": {"content": ""}}, NOW)["errcode"] == 47001
    sim.fail(-1)
    with pytest.raises(Unavailable):
        sim.send_text("o-1", "x", NOW)
    sim.fail(None)
    with pytest.raises(Unavailable):
        sim.send_text("o-1", "x", NOW)
    sim.fail(40003)
    with pytest.raises(ReplyRefused) as refused:
        sim.send_text("o-1", "x", NOW)
    assert refused.value.details["wechat_errcode"] == 40003
    sim.send_text("o-1", "x", NOW)
    assert len(sim.sent("o-1")) == 1


# The real client against a fake WeChat

@dataclass
class FakeWechat:
    base: str = ""
    tokens: list[str] = field(default_factory=lambda: ["token-1", "token-2"])
    answers: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = field(default_factory=list)

    def answer(self, path: str) -> dict[str, Any]:
        if path == "/cgi-bin/stable_token":
            return {"access_token": self.tokens.pop(0), "expires_in": 7200}
        return self.answers.pop(0) if self.answers else {"errcode": 0, "errmsg": "ok"}

    def client(self) -> RealCustomerService:
        return RealCustomerService(AccessToken("wx-app", "secret", api_base=self.base, budget=HttpBudget(0.5, 0.5)))


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()

    with serve_on_loopback(recording_posts(fake.requests, fake.answer)) as base:
        fake.base = base
        yield fake


def test_the_client_posts_the_text_with_the_token_in_the_query(wechat):
    wechat.client().send_text("o-1", "您好，已发货", NOW)
    path, query, sent = wechat.requests[1]
    assert (path, query, sent) == ("/cgi-bin/message/custom/send", {"access_token": ["token-1"]},
                                   send_body("o-1", "您好，已发货"))


def test_an_expired_token_is_refreshed_once(wechat):
    wechat.answers = [{"errcode": 42001, "errmsg": "access_token expired"}]
    wechat.client().send_text("o-1", "x", NOW)
    assert [q["access_token"] for p, q, _ in wechat.requests if p.endswith("/send")] == [["token-1"], ["token-2"]]


@pytest.mark.parametrize(("errcode", "refusal"), [
    (45015, ReplyWindowClosed), (45047, ReplyLimitReached), (-1, Unavailable), (40003, ReplyRefused),
    (43101, ReplyRefused),
])
def test_wechats_errcodes_come_back_as_our_refusals(wechat, errcode, refusal):
    wechat.answers = [{"errcode": errcode, "errmsg": "said"}]
    with pytest.raises(refusal) as raised:
        wechat.client().send_text("o-1", "x", NOW)
    assert raised.value.details["wechat_errcode"] == errcode
