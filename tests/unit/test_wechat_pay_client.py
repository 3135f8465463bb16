"""``RealPayClient`` (chalicelib/wechat/pay.py) against a fake WeChat Pay on loopback that checks
every request's signature with the merchant public key and signs its answers with the platform key."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.pay import InvalidSignature, PayConfig, PayRejected, RealPayClient, RefundOutcome
from chalicelib.wechat.pay_crypto import generate_rsa_key, lines, public_key_of, sign_headers, verify_signature
from chalicelib.wechat.pay_simulator import simulator_config
from tests.unit.loopback import Answer, answering, serve_on_loopback

SHANGHAI = timezone(timedelta(hours=8))
EXPIRES = datetime(2026, 11, 10, 12, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def keys() -> tuple[PayConfig, str]:
    config, platform_private = simulator_config("wx-test-app", notify_url="https://shop.example.com/v1/wechat/pay/notify")
    assert platform_private is not None
    return config, platform_private


@dataclass
class FakePay:
    config: PayConfig
    platform_private: str
    base: str = ""
    script: list[tuple[int, bytes, str]] = field(default_factory=list)  # (status, body, how to sign) answered first
    stall: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def then(self, status: int, body: object = None, sign: str = "ok", raw: bytes | None = None) -> None:
        self.script.append((status, raw if raw is not None else b"" if body is None else json.dumps(body).encode(), sign))

    def client(self, config: PayConfig | None = None) -> RealPayClient:
        config = config or self.config
        return RealPayClient(PayConfig(**{**config.__dict__, "api_base": self.base + "/"}), budget=HttpBudget(0.5, 0.5))

    def authorised(self, method: str, path: str, headers: Any, body: bytes) -> bool:
        schema, _, params = (headers.get("Authorization") or "").partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if schema != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.config.mch_id:
            return False
        if fields.get("serial_no") != self.config.merchant_serial or abs(int(fields["timestamp"]) - time.time()) > 300:
            return False
        message = lines(method, path, fields["timestamp"], fields["nonce_str"], body)
        return verify_signature(public_key_of(self.config.merchant_private_key_pem), message, fields["signature"])

    def behave(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, object]:
        """What WeChat Pay does when nothing is scripted."""
        if path == "/v3/pay/transactions/jsapi":
            return 200, {"prepay_id": "wx" + body["out_trade_no"]}
        if path == "/v3/refund/domestic/refunds":
            refund = self.refunds.setdefault(body["out_refund_no"], {
                "refund_id": f"5030000{len(self.refunds)}", "out_refund_no": body["out_refund_no"],
                "out_trade_no": body["out_trade_no"], "status": "PROCESSING", "amount": body["amount"]})
            return 200, refund
        if path.endswith("/close"):
            return 204, None
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^?/]+)\?mchid=(\d+)", path)
        if method == "GET" and match:
            return 200, {"appid": self.config.app_id, "mchid": match.group(2), "out_trade_no": match.group(1),
                         "transaction_id": "4200000001", "trade_type": "JSAPI", "trade_state": "SUCCESS",
                         "success_time": "2026-11-10T12:01:02+08:00", "payer": {"openid": "o-alice"},
                         "amount": {"total": 12900, "payer_total": 12900, "currency": "CNY", "payer_currency": "CNY"}}
        return 404, {"code": "NOT_FOUND", "message": "no such API"}

    def signed(self, body: bytes, how: str) -> dict[str, str]:
        if how == "unsigned":
            return {}
        private = generate_rsa_key() if how == "other-key" else self.platform_private
        at = time.time() - 400 if how == "stale" else time.time()
        headers = sign_headers(body, private_key_pem=private, key_id=self.config.platform_key_id, timestamp=int(at),
                               nonce="c5ac7061fccab6bf3e254dcf98995b8c")
        if how == "tampered":
            headers["Wechatpay-Signature"] = sign_headers(body + b" ", private_key_pem=private, key_id="", timestamp=int(at),
                                                          nonce="c5ac7061fccab6bf3e254dcf98995b8c")["Wechatpay-Signature"]
        if how == "wrong-serial":
            headers["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
        return headers


@pytest.fixture
def pay(keys) -> Iterator[FakePay]:
    fake = FakePay(*keys)

    def respond(method: str, path: str, headers: Any, raw: bytes) -> Answer:
        ok = fake.authorised(method, path, headers, raw)
        fake.requests.append({"method": method, "path": path, "body": json.loads(raw) if raw else None,
                              "signed": ok, "content_type": headers.get("Content-Type")})
        if fake.stall:
            fake.release.wait(2.0)
        if not ok:
            status, body, how = 401, b'{"code":"SIGN_ERROR","message":"signature mismatch"}', "unsigned"
        elif fake.script:
            status, body, how = fake.script.pop(0)
        else:
            status, answer = fake.behave(method, path, json.loads(raw) if raw else {})
            body, how = (b"" if answer is None else json.dumps(answer).encode()), "ok"
        return status, body, fake.signed(body, how) if 200 <= status < 300 else {}

    with serve_on_loopback(answering(respond), before_stop=fake.release.set) as base:
        fake.base = base
        yield fake


# Calls that succeed


def test_prepay_sends_a_signed_jsapi_order_and_returns_the_prepay_id(pay):
    assert pay.client().prepay("T100001", "两件套", 12_900, "o-alice", EXPIRES) == "wxT100001"
    [request] = pay.requests
    assert (request["method"], request["path"], request["signed"], request["content_type"]) == (
        "POST", "/v3/pay/transactions/jsapi", True, "application/json")
    assert request["body"] == {
        "appid": "wx-test-app", "mchid": "1900000109", "description": "两件套", "out_trade_no": "T100001",
        "time_expire": "2026-11-10T12:30:00+08:00", "notify_url": "https://shop.example.com/v1/wechat/pay/notify",
        "amount": {"total": 12_900, "currency": "CNY"}, "payer": {"openid": "o-alice"}}


def test_a_retried_prepay_sends_the_same_order_again(pay):
    client, expires = pay.client(), datetime(2026, 11, 10, 4, 30, 0, 123456, tzinfo=UTC)
    assert client.prepay("T100001", "d", 100, "o-a", expires) == client.prepay("T100001", "d", 100, "o-a", expires)
    assert pay.requests[0]["body"] == pay.requests[1]["body"]
    assert pay.requests[0]["body"]["time_expire"] == "2026-11-10T12:30:00+08:00"  # Beijing time, whole seconds


def test_payment_params_are_signed_for_wx_request_payment(pay, keys):
    params = pay.client().payment_params("wxT100001")
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    message = lines(params["appId"], params["timeStamp"], params["nonceStr"], params["package"])
    assert verify_signature(public_key_of(keys[0].merchant_private_key_pem), message, params["paySign"])
    assert pay.requests == []  # no call to WeChat


def test_a_refund_is_asked_for_with_our_numbers_and_a_retry_is_the_same_refund(pay):
    client = pay.client()
    first = client.refund("T100001", "T100001-R1", 900, 12_900, "缺货")
    assert first == RefundOutcome(status="PROCESSING", refund_id="50300000")
    assert client.refund("T100001", "T100001-R1", 900, 12_900, "缺货") == first
    assert [r["body"]["out_refund_no"] for r in pay.requests] == ["T100001-R1", "T100001-R1"]
    assert pay.requests[0]["path"] == "/v3/refund/domestic/refunds" and pay.requests[0]["body"] == {
        "out_trade_no": "T100001", "out_refund_no": "T100001-R1", "reason": "缺货",
        "notify_url": "https://shop.example.com/v1/wechat/pay/notify",
        "amount": {"refund": 900, "total": 12_900, "currency": "CNY"}}


def test_query_reads_the_transaction_with_the_merchant_id_in_the_signed_query_string(pay):
    payment = pay.client().query("T100001")
    assert pay.requests[0]["path"] == "/v3/pay/transactions/out-trade-no/T100001?mchid=1900000109"
    assert pay.requests[0]["signed"] and pay.requests[0]["body"] is None
    assert payment is not None
    assert (payment.trade_state, payment.total_fen, payment.payer_total_fen, payment.transaction_id) == (
        "SUCCESS", 12_900, 12_900, "4200000001")
    assert payment.success_time == datetime(2026, 11, 10, 4, 1, 2, tzinfo=UTC)


def test_an_order_number_with_reserved_characters_is_escaped_and_signed_as_sent(pay):
    pay.then(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
    assert pay.client().query("T1|2*3") is None
    assert pay.requests[0]["path"] == "/v3/pay/transactions/out-trade-no/T1%7C2%2A3?mchid=1900000109"
    assert pay.requests[0]["signed"]


def test_close_posts_the_merchant_id_and_accepts_the_signed_204(pay):
    pay.client().close("T100001")
    assert (pay.requests[0]["path"], pay.requests[0]["body"]) == (
        "/v3/pay/transactions/out-trade-no/T100001/close", {"mchid": "1900000109"})


def test_closing_an_order_that_is_closed_already_is_not_an_error(pay):
    pay.then(400, {"code": "ORDER_CLOSED", "message": "订单已关闭"})
    pay.client().close("T100001")


# Refusals and failures


@pytest.mark.parametrize(("status", "code"), [(400, "PARAM_ERROR"), (403, "NOT_ENOUGH"), (404, "RESOURCE_NOT_EXISTS")])
def test_a_request_wechat_refuses_raises_pay_rejected_with_wechats_code(pay, status, code):
    pay.then(status, {"code": code, "message": "refused"})
    with pytest.raises(PayRejected) as refused:
        pay.client().refund("T100001", "R1", 1, 1, "r")
    assert refused.value.details == {"wechat_code": code, "wechat_status": status}
    assert refused.value.code == "PAY_REJECTED"


def test_a_client_with_the_wrong_merchant_key_is_refused_by_wechat(pay, keys):
    wrong = PayConfig(**{**keys[0].__dict__, "merchant_private_key_pem": generate_rsa_key()})
    with pytest.raises(PayRejected) as refused:
        pay.client(wrong).prepay("T100001", "d", 100, "o-a", EXPIRES)
    assert refused.value.details["wechat_code"] == "SIGN_ERROR" and not pay.requests[0]["signed"]


@pytest.mark.parametrize(("status", "raw"), [(500, b'{"code":"SYSTEM_ERROR","message":"busy"}'), (502, b"<html>"),
                                             (429, b'{"code":"FREQUENCY_LIMITED","message":"slow down"}')])
def test_a_busy_or_broken_wechat_pay_is_unavailable_for_a_retry(pay, status, raw):
    pay.then(status, raw=raw)
    with pytest.raises(Unavailable):
        pay.client().prepay("T100001", "d", 100, "o-a", EXPIRES)


def test_a_wechat_pay_that_does_not_answer_in_time_is_unavailable(pay):
    pay.stall = True
    with pytest.raises(Unavailable):
        pay.client().prepay("T100001", "d", 100, "o-a", EXPIRES)
    assert len(pay.requests) == 1  # a POST that may have arrived is not re-sent by the client


def test_an_unreachable_wechat_pay_is_unavailable(keys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = PayConfig(**{**keys[0].__dict__, "api_base": f"http://127.0.0.1:{port}"})
    with pytest.raises(Unavailable):
        RealPayClient(config, budget=HttpBudget(0.3, 0.3)).query("T100001")


@pytest.mark.parametrize("how", ["unsigned", "tampered", "other-key", "wrong-serial", "stale"])
def test_an_answer_that_does_not_verify_is_not_trusted_and_is_unavailable_for_a_retry(pay, how):
    pay.then(200, {"prepay_id": "wx-forged"}, sign=how)
    with pytest.raises(Unavailable) as failed:
        pay.client().prepay("T100001", "d", 100, "o-a", EXPIRES)
    assert failed.value.details == {"reason": "unverified_response"}
    assert isinstance(failed.value.__cause__, InvalidSignature)


def test_an_unsigned_204_is_not_trusted_either(pay):
    pay.then(204, sign="unsigned")
    with pytest.raises(Unavailable):
        pay.client().close("T100001")


@pytest.mark.parametrize("answer", [b"not json", b"{}", b'{"prepay_id": 7}'])
def test_a_signed_answer_without_a_prepay_id_is_unavailable(pay, answer):
    pay.then(200, raw=answer)
    with pytest.raises(Unavailable):
        pay.client().prepay("T100001", "d", 100, "o-a", EXPIRES)


def test_a_naive_expiry_time_is_a_programming_error(pay):
    with pytest.raises(ValueError, match="timezone-aware"):
        pay.client().prepay("T100001", "d", 100, "o-a", datetime(2026, 11, 10, 12, 30))  # noqa: DTZ001 -- naive on purpose
