"""Subscribe messages' pure rules, WeChat's answers and the simulator's checks (no I/O)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.config import MessageRules, Rules
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.subscriptions import (
    LEASE,
    LONGEST_PAUSE,
    MAX_ATTEMPTS,
    Message,
    MessageKind,
    MessageState,
    Template,
    Verdict,
    after_attempt,
    claimed,
    fit,
    moment,
    render,
    template_problems,
    yuan,
)
from chalicelib.wechat.subscribe import send_body, verdict
from chalicelib.wechat.subscribe_simulator import SubscribeSimulator

NOW = datetime(2026, 12, 6, 12, 15, tzinfo=UTC)  # 20:15 in Shanghai


def message(**changes: object) -> Message:
    base = Message("u1", MessageKind.ORDER_SHIPPED, "o1", "openid-1", "T1", "pages/order/detail?id=o1",
                   {"character_string1": {"value": "o1"}, "time2": {"value": moment(NOW)}}, NOW)
    return Message(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_amounts_and_times_are_written_as_wechat_takes_them():
    assert (yuan(1_000), yuan(5), yuan(123_456)) == ("10.00元", "0.05元", "1234.56元")
    assert moment(NOW) == "2026年12月06日 20:15"


def test_a_value_is_cut_to_its_keys_type():
    assert fit("thing1", "一" * 25) == "一" * 19 + "…"
    assert fit("character_string2", "x" * 40) == "x" * 32
    assert fit("phrase3", "已同意") == "已同意"
    assert fit("time4", "2026年12月06日 20:15") == "2026年12月06日 20:15"  # no length limit of its own


def test_render_maps_wechat_keys_to_our_values_and_fills_the_page():
    template = Template("T1", "pages/order/detail?id={order_id}", {"character_string1": "order_id", "thing2": "items"})
    data, page = render(template, {"order_id": "o9", "items": ""})
    assert data == {"character_string1": {"value": "o9"}, "thing2": {"value": "-"}}  # WeChat refuses an empty value
    assert page == "pages/order/detail?id=o9"


@pytest.mark.parametrize(("fields", "page", "says"), [
    ({"foo1": "order_id"}, "", "not a WeChat template key"),
    ({"thing1": "amount_fen"}, "", "is not a value of order_shipped"),
    ({"phrase1": "order_id"}, "", "a phrase cannot show order_id"),
    ({"thing1": "items"}, "p?id={case_id}", "{case_id} is not a value"),
])
def test_a_template_that_cannot_work_is_named_with_its_reason(fields, page, says):
    problems = template_problems(MessageKind.ORDER_SHIPPED, Template("T1", page, fields))
    assert any(says in p for p in problems), problems


def test_the_settings_refuse_a_broken_template_and_two_kinds_sharing_an_id():
    with pytest.raises(ValidationError, match="a phrase cannot show order_id"):
        Rules(messages={"order_shipped": {"template_id": "T1", "fields": {"phrase1": "order_id"}}})
    with pytest.raises(ValidationError, match="share a template id"):
        MessageRules(order_shipped={"template_id": "T1", "fields": {"thing1": "items"}},
                     withdrawal_paid={"template_id": "T1", "fields": {"amount1": "amount"}})
    assert Rules().messages.template(MessageKind.ORDER_SHIPPED).template_id == ""  # off until configured


def test_the_default_field_mappings_are_valid_for_their_kinds():
    rules = MessageRules()
    for kind in MessageKind:
        assert template_problems(kind, rules.template(kind)) == []


def test_an_attempt_sent_refused_or_failed_is_final_and_a_retry_pauses_longer_each_time():
    first = claimed(message(), NOW)
    assert (first.attempts, first.due_at) == (1, NOW + LEASE)
    assert after_attempt(first, Verdict.SENT, None, NOW).state is MessageState.SENT
    assert after_attempt(first, Verdict.USER_REFUSED, "43101", NOW).state is MessageState.REFUSED
    assert after_attempt(first, Verdict.REFUSED, "47003", NOW).state is MessageState.FAILED
    pauses, current = [], first
    while (after := after_attempt(current, Verdict.RETRY, "busy", NOW)).state is MessageState.PENDING:
        pauses.append(after.due_at - NOW)
        current = claimed(after, NOW)
    assert after.state is MessageState.FAILED and current.attempts == MAX_ATTEMPTS
    assert pauses == sorted(pauses) and pauses[0] == LEASE and max(pauses) <= LONGEST_PAUSE


@pytest.mark.parametrize(("answer", "expected"), [
    ({"errcode": 0, "errmsg": "ok", "msgid": 1}, Verdict.SENT),
    ({"errcode": 43101, "errmsg": "user refuse to accept the msg"}, Verdict.USER_REFUSED),
    ({"errcode": -1, "errmsg": "system error"}, Verdict.RETRY),
    ({"errcode": 45009, "errmsg": "reach max api daily quota limit"}, Verdict.RETRY),
    ({"errcode": 47003, "errmsg": "argument invalid! data.thing1.value"}, Verdict.REFUSED),
    ({"errcode": 40037, "errmsg": "invalid template_id"}, Verdict.REFUSED),
    ({"errcode": "?"}, Verdict.RETRY),
])
def test_what_wechats_answer_means(answer, expected):
    assert verdict(answer)[0] is expected


def test_the_body_is_wechats_and_leaves_out_an_empty_page():
    body = send_body(message(page=""), "developer", "zh_CN")
    assert body == {"touser": "openid-1", "template_id": "T1", "data": message().data,
                    "miniprogram_state": "developer", "lang": "zh_CN"}


@pytest.mark.parametrize(("data", "field"), [
    ({"thing1": {"value": "一" * 21}}, "thing1"),
    ({"phrase1": {"value": "同意了吗abc"}}, "phrase1"),
    ({"amount1": {"value": "十元"}}, "amount1"),
    ({"character_string1": {"value": "订单一"}}, "character_string1"),
    ({"time1": {"value": "yesterday"}}, "time1"),
    ({"nonsense": {"value": "x"}}, "nonsense"),
])
def test_the_simulator_refuses_data_wechat_would_with_47003_naming_the_field(data, field):
    answer = SubscribeSimulator().receive({"touser": "o", "template_id": "T", "data": data})
    assert answer["errcode"] == 47003 and field in answer["errmsg"]


def test_the_simulator_checks_openid_template_and_page():
    sim = SubscribeSimulator()
    data = {"thing1": {"value": "x"}}
    assert sim.receive({"touser": "", "template_id": "T", "data": data})["errcode"] == 40003
    assert sim.receive({"touser": "o", "template_id": "", "data": data})["errcode"] == 40037
    assert sim.receive({"touser": "o", "template_id": "T", "page": "no spaces allowed", "data": data})["errcode"] \
        == 41030
    assert sim.recent() == []


def test_the_simulator_delivers_records_and_plays_a_user_who_turned_the_template_off():
    sim = SubscribeSimulator(clock=lambda: NOW)
    assert sim.send(message(), "formal", "zh_CN") == (Verdict.SENT, None)
    assert [m["template_id"] for m in sim.sent("openid-1")] == ["T1"] and sim.recent()[0]["at"] == NOW.isoformat()
    sim.cancel("openid-1", "T1")
    assert sim.send(message(), "formal", "zh_CN")[0] is Verdict.USER_REFUSED
    sim.fail(-1)
    assert sim.send(message(openid="other"), "formal", "zh_CN") == (Verdict.RETRY, "-1 system error")
    sim.fail(None)
    with pytest.raises(Unavailable):
        sim.send(message(openid="other"), "formal", "zh_CN")
    assert len(sim.sent("openid-1")) == 1


def test_a_message_due_later_is_claimed_for_the_lease_only():
    assert claimed(message(attempts=2), NOW + timedelta(minutes=1)).due_at == NOW + timedelta(minutes=1) + LEASE


def test_each_cause_carries_every_value_its_kind_offers_so_any_valid_template_renders():
    from chalicelib.domain import notices
    from chalicelib.domain.after_sales import Case, CaseKind, CaseLine, CaseStatus
    from chalicelib.domain.orders import Line, Order, OrderStatus
    from chalicelib.domain.subscriptions import FIELDS
    from chalicelib.domain.withdrawals import Withdrawal, WithdrawalStatus

    order = Order("o1", "u1", OrderStatus.SHIPPED, [Line("p1", "面膜", 2, 5_000, 1_500, 2_000, 500)], 10_000, NOW, NOW,
                  carrier="SF", tracking_no="SF1234567")
    case = Case("c1", "o1", "u1", CaseKind.REFUND_ONLY, CaseStatus.REJECTED, (CaseLine("p1", 1, 5_000),), "破损", NOW,
                reject_reason="超过七天", decided_at=NOW)
    causes = [notices.commission_credited("u2", "o1", 2, 1_000, NOW), notices.order_shipped(order, NOW),
              notices.withdrawal_paid(Withdrawal("w1", "u2", 2_000, WithdrawalStatus.PAID, NOW, "w1"), NOW),
              notices.after_sales_decided(case)]
    for notice in causes:
        assert set(notice.values) == FIELDS[notice.kind], notice.kind
    assert causes[0].values["level"] == "二级" and causes[0].key == "commission_credited#o1#2"
    assert causes[1].values["carrier"] == "顺丰" and causes[1].values["items"] == "面膜*2"
    assert (causes[3].values["result"], causes[3].values["amount"], causes[3].values["reason"]) == \
        ("已拒绝", "0.00元", "超过七天")


# The real client against a fake WeChat (tests/unit/loopback.py)

class FakeWechat:
    def __init__(self) -> None:
        self.base = ""
        self.tokens = ["token-1", "token-2"]
        self.sends: list[dict[str, object]] = []  # answers, in order
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, object]]] = []

    def answer(self, path: str) -> dict[str, object]:
        if path == "/cgi-bin/stable_token":
            return {"access_token": self.tokens.pop(0), "expires_in": 7200}
        return self.sends.pop(0) if self.sends else {"errcode": 0, "errmsg": "ok", "msgid": 7}

    def client(self) -> object:
        from chalicelib.wechat.http import HttpBudget
        from chalicelib.wechat.subscribe import RealSubscribeMessages
        from chalicelib.wechat.token import AccessToken

        return RealSubscribeMessages(AccessToken("wx-app", "app-secret", api_base=self.base,
                                                 budget=HttpBudget(0.5, 0.5)))


@pytest.fixture
def wechat():
    from tests.unit.loopback import recording_posts, serve_on_loopback

    fake = FakeWechat()
    with serve_on_loopback(recording_posts(fake.requests, fake.answer)) as base:
        fake.base = base
        yield fake


def test_the_client_posts_wechats_body_with_the_token_and_refreshes_an_expired_token_once(wechat):
    client = wechat.client()
    assert client.send(message(), "formal", "zh_CN") == (Verdict.SENT, None)
    path, query, sent = wechat.requests[1]
    assert (path, query) == ("/cgi-bin/message/subscribe/send", {"access_token": ["token-1"]})
    assert sent == send_body(message(), "formal", "zh_CN")
    wechat.sends = [{"errcode": 40001, "errmsg": "invalid credential"}, {"errcode": 43101, "errmsg": "user refuse"}]
    assert client.send(message(), "formal", "zh_CN") == (Verdict.USER_REFUSED, "43101 user refuse")
    assert [q["access_token"] for p, q, _ in wechat.requests if p.endswith("/send")] == [
        ["token-1"], ["token-1"], ["token-2"]]
