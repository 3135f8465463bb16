"""``upload_shipping_info`` (chalicelib/wechat/shipping.py): the simulator's protocol, and the real
client with the shared access token against a fake WeChat on loopback."""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.fulfilment import Shipment, Verdict
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.security import RealContentSecurity
from chalicelib.wechat.shipping import RealShippingReporter, upload_body
from chalicelib.wechat.shipping_simulator import ShippingSimulator
from chalicelib.wechat.simulator_state import MemoryState
from chalicelib.wechat.token import AccessToken
from tests.unit.loopback import recording_posts, serve_on_loopback

NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
MCH = "1900000109"
SHIPMENT = Shipment("o1", "openid-1", "SF", "SF123456", "面膜*2", "138****1234", NOW)


# The simulator

@pytest.fixture
def payments() -> MemoryState:
    state = MemoryState()
    state.save("o1", {"openid": "openid-1", "transaction_id": "4200000001", "state": "SUCCESS"})
    state.save("o2", {"openid": "openid-1", "transaction_id": None, "state": "NOTPAY"})
    state.save("o3", {"openid": "openid-1", "transaction_id": "4200000003", "state": "REFUND"})
    return state


@pytest.fixture
def sim(payments: MemoryState) -> ShippingSimulator:
    return ShippingSimulator(MCH, payments=payments)


def body(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(upload_body(SHIPMENT, MCH, NOW))
    for path, new in changes.items():
        *parents, last = path.split("__")
        target = value
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if new is None:
            del target[last]
        else:
            target[last] = new
    return value


def test_a_valid_report_is_accepted_and_remembered(sim):
    assert sim.receive(body()) == {"errcode": 0, "errmsg": "ok"}
    assert sim.reports("o1") == [body()]
    assert sim.upload(SHIPMENT, NOW + timedelta(seconds=1)) == (Verdict.ACCEPTED, None)


@pytest.mark.parametrize(("changes", "errcode"), [
    ({"order_key__mchid": "1234"}, 47001),
    ({"order_key__order_number_type": 2}, 47001),
    ({"logistics_type": 9}, 10060005),
    ({"delivery_mode": 2}, 47001),
    ({"shipping_list": []}, 47001),
    ({"shipping_list__0__item_desc": ""}, 10060008),
    ({"shipping_list__0__item_desc": "x" * 121}, 10060009),
    ({"shipping_list__0__tracking_no": None}, 47001),
    ({"shipping_list__0__tracking_no": "x" * 129}, 10060026),
    ({"shipping_list__0__express_company": "NOPE"}, 47001),
    ({"shipping_list__0__contact": None}, 47001),  # SF needs a contact
    ({"shipping_list__0__contact": {"receiver_contact": "13800001234"}}, 47001),  # not masked
    ({"upload_time": "2026-12-06 13:00:00"}, 268485216),
    ({"payer__openid": ""}, 47001),
    ({"payer__openid": "someone-else"}, 47001),
])
def test_a_body_wechat_would_refuse_is_refused_with_its_errcode_and_not_remembered(sim, changes, errcode):
    assert sim.receive(body(**changes))["errcode"] == errcode
    assert sim.reports("o1") == []


def test_a_contact_is_optional_for_carriers_other_than_sf(sim):
    zto = body(shipping_list__0__express_company="ZTO", shipping_list__0__contact=None)
    assert sim.receive(zto)["errcode"] == 0


@pytest.mark.parametrize(("order", "errcode"), [("o2", 10060001), ("o9", 10060001), ("o3", 10060004)])
def test_a_payment_not_paid_unknown_or_refunded_cannot_be_reported(sim, order, errcode):
    assert sim.receive(body(order_key__out_trade_no=order))["errcode"] == errcode


def test_a_payment_may_be_updated_once_later_only(sim):
    assert sim.receive(body())["errcode"] == 0
    assert sim.receive(body())["errcode"] == 47001  # upload_time not later than the previous
    later = body(upload_time="2026-12-06T14:00:00.000+08:00")
    assert sim.receive(later)["errcode"] == 0
    assert sim.receive(body(upload_time="2026-12-06T15:00:00.000+08:00"))["errcode"] == 10060003
    assert len(sim.reports("o1")) == 2


def test_the_simulator_can_be_told_to_fail(sim):
    sim.fail(-1, times=2)
    assert sim.upload(SHIPMENT, NOW)[0] is Verdict.RETRY
    assert sim.upload(SHIPMENT, NOW)[0] is Verdict.RETRY
    sim.fail(None)
    with pytest.raises(Unavailable):
        sim.upload(SHIPMENT, NOW)
    assert sim.upload(SHIPMENT, NOW)[0] is Verdict.ACCEPTED
    assert sim.calls == 4


def test_marker_tracking_numbers_play_wechat_down_and_busy(sim):
    with pytest.raises(Unavailable):
        sim.receive(body(shipping_list__0__tracking_no="SIMDOWN123"))
    assert sim.receive(body(shipping_list__0__tracking_no="SIMBUSY123"))["errcode"] == -1


def test_without_the_pay_simulators_memory_any_payment_is_taken():
    assert ShippingSimulator(MCH).receive(body(order_key__out_trade_no="anything"))["errcode"] == 0


# The real client against a fake WeChat

@dataclass
class FakeWechat:
    base: str = ""
    tokens: list[str] = field(default_factory=lambda: ["token-1", "token-2"])
    uploads: list[dict[str, Any]] = field(default_factory=list)  # answers, in order
    status: int = 200
    requests: list[tuple[str, dict[str, list[str]], dict[str, Any]]] = field(default_factory=list)

    def answer(self, path: str) -> dict[str, Any]:
        if path == "/cgi-bin/stable_token":
            return {"access_token": self.tokens.pop(0), "expires_in": 7200}
        if path == "/wxa/sec/order/upload_shipping_info":
            return self.uploads.pop(0) if self.uploads else {"errcode": 0, "errmsg": "ok"}
        if path == "/wxa/msg_sec_check":
            return {"errcode": 0, "result": {"suggest": "pass", "label": 100}}
        return {"errcode": 404}

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]

    def token(self) -> AccessToken:
        return AccessToken("wx-app", "app-secret", api_base=self.base, budget=HttpBudget(0.5, 0.5))


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()

    with serve_on_loopback(recording_posts(fake.requests, fake.answer,
                                         lambda path: fake.status if path != "/cgi-bin/stable_token" else 200)) as base:
        fake.base = base
        yield fake


def test_the_client_posts_the_body_with_the_token_in_the_query(wechat):
    assert RealShippingReporter(wechat.token(), MCH).upload(SHIPMENT, NOW) == (Verdict.ACCEPTED, None)
    assert wechat.paths() == ["/cgi-bin/stable_token", "/wxa/sec/order/upload_shipping_info"]
    _, query, sent = wechat.requests[1]
    assert query == {"access_token": ["token-1"]}
    assert sent == upload_body(SHIPMENT, MCH, NOW)


def test_an_expired_token_is_refreshed_once_and_the_upload_sent_again(wechat):
    wechat.uploads = [{"errcode": 40001, "errmsg": "invalid credential"}]
    assert RealShippingReporter(wechat.token(), MCH).upload(SHIPMENT, NOW)[0] is Verdict.ACCEPTED
    assert [q["access_token"] for p, q, _ in wechat.requests if p.endswith("upload_shipping_info")] == [
        ["token-1"], ["token-2"]]


@pytest.mark.parametrize(("answer", "expected"), [
    ({"errcode": -1, "errmsg": "system error"}, (Verdict.RETRY, "-1 system error")),
    ({"errcode": 10060001, "errmsg": "支付单不存在"}, (Verdict.RETRY, "10060001 支付单不存在")),
    ({"errcode": 47001, "errmsg": "data format error"}, (Verdict.REFUSED, "47001 data format error")),
])
def test_wechats_errcodes_come_back_as_verdicts(wechat, answer, expected):
    wechat.uploads = [answer]
    assert RealShippingReporter(wechat.token(), MCH).upload(SHIPMENT, NOW) == expected


def test_a_5xx_is_unavailable(wechat):
    wechat.status = 502
    with pytest.raises(Unavailable):
        RealShippingReporter(wechat.token(), MCH).upload(SHIPMENT, NOW)


def test_content_security_and_the_shipping_report_share_one_token(wechat):
    token = wechat.token()
    RealContentSecurity("wx-app", "app-secret", token=token).check("好物", "openid-1", 2)
    RealShippingReporter(token, MCH).upload(SHIPMENT, NOW)
    assert wechat.paths().count("/cgi-bin/stable_token") == 1
