"""``RealTransferClient`` (chalicelib/wechat/transfer.py) against a fake WeChat Pay merchant transfer
on loopback: it checks every request's signature with the merchant public key, decrypts
``user_name`` with the platform private key, keeps bills by ``out_bill_no`` as WeChat does, and
signs its answers with the platform key."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.bootstrap import transfer_client
from chalicelib.config import settings_from_env
from chalicelib.domain.errors import Unavailable
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.pay import InvalidSignature, PayConfig
from chalicelib.wechat.pay_crypto import (
    decrypt_sensitive,
    generate_rsa_key,
    lines,
    public_key_of,
    sign_headers,
    verify_signature,
)
from chalicelib.wechat.pay_simulator import simulator_config
from chalicelib.wechat.transfer import (
    RealTransferClient,
    TransferRejected,
    TransferScene,
    TransferState,
)
from chalicelib.wechat.transfer_simulator import TransferSimulator
from tests.unit.loopback import Answer, answering, serve_on_loopback

BILLS = "/v3/fund-app/mch-transfer/transfer-bills"
SCENE = TransferScene(notify_url="https://shop.example.com/v1/wechat/transfer/notify")


@pytest.fixture(scope="module")
def keys() -> tuple[PayConfig, str]:
    config, platform_private = simulator_config("wx-test-app")
    assert platform_private is not None
    return config, platform_private


@dataclass
class FakeTransfers:
    """WeChat Pay's transfer-bills API as documented, plus a script of canned answers."""

    config: PayConfig
    platform_private: str
    base: str = ""
    script: list[tuple[int, bytes, str]] = field(default_factory=list)  # (status, body, how to sign) answered first
    stall_after_handling: int = 0  # the next n requests are handled, then their answer is held back
    release: threading.Event = field(default_factory=threading.Event)
    balance_too_low: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # out_bill_no → the decrypted user_name

    def client(self, scene: TransferScene = SCENE, budget: HttpBudget = HttpBudget(0.5, 0.5)) -> RealTransferClient:
        return RealTransferClient(PayConfig(**{**self.config.__dict__, "api_base": self.base + "/"}), scene,
                                  budget=budget)

    def then(self, status: int, body: object = None, sign: str = "ok", raw: bytes | None = None) -> None:
        self.script.append((status, raw if raw is not None else b"" if body is None else json.dumps(body).encode(), sign))

    def authorised(self, method: str, path: str, headers: Any, body: bytes) -> bool:
        schema, _, params = (headers.get("Authorization") or "").partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if schema != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.config.mch_id:
            return False
        if fields.get("serial_no") != self.config.merchant_serial or abs(int(fields["timestamp"]) - time.time()) > 300:
            return False
        message = lines(method, path, fields["timestamp"], fields["nonce_str"], body)
        return verify_signature(public_key_of(self.config.merchant_private_key_pem), message, fields["signature"])

    def behave(self, method: str, path: str, headers: Any, body: dict[str, Any]) -> tuple[int, object]:
        if method == "POST" and path == BILLS:
            return self.create(headers, body)
        match = re.fullmatch(BILLS + r"/out-bill-no/([0-9A-Za-z]+)(/cancel)?", path)
        bill = self.bills.get(match.group(1)) if match else None
        if bill is None:
            return 404, {"code": "NOT_FOUND", "message": "记录不存在"}
        if method == "POST" and match and match.group(2):
            bill.update(state="CANCELING", update_time="2026-11-10T12:05:00+08:00")
            return 200, {key: bill[key] for key in ("out_bill_no", "transfer_bill_no", "state", "update_time")}
        if method == "GET":
            return 200, {"mch_id": self.config.mch_id, "appid": self.config.app_id, **{
                k: v for k, v in bill.items() if k not in ("package_info", "request")}}
        return 404, {"code": "NOT_FOUND", "message": "no such API"}

    def create(self, headers: Any, body: dict[str, Any]) -> tuple[int, object]:
        known = self.bills.get(body["out_bill_no"])
        if known is not None:
            if known["request"] != {k: v for k, v in body.items() if k != "user_name"}:
                return 400, {"code": "INVALID_REQUEST", "message": "单号已存在但信息不一致,请查单后比较确认"}
            return 200, {k: known[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state", "package_info")}
        if "user_name" in body:
            if headers.get("Wechatpay-Serial") != self.config.platform_key_id:
                return 400, {"code": "PARAM_ERROR", "message": "Wechatpay-Serial 与加密公钥不一致"}
            self.names[body["out_bill_no"]] = decrypt_sensitive(self.platform_private, body["user_name"])
        elif body["transfer_amount"] >= 200_000:
            return 400, {"code": "PARAM_ERROR", "message": "转账金额>=2000元时,收款用户姓名必填"}
        if self.balance_too_low:
            return 403, {"code": "NOT_ENOUGH", "message": "商户运营账户资金不足,充值后可以原单号发起重试,请勿更换商户单号"}
        bill = {"out_bill_no": body["out_bill_no"], "transfer_bill_no": f"13300000711009999911820201110{len(self.bills):05d}",
                "create_time": "2026-11-10T12:00:00+08:00", "update_time": "2026-11-10T12:00:01+08:00",
                "state": "WAIT_USER_CONFIRM", "package_info": f"PKG{len(self.bills)}", "transfer_amount":
                body["transfer_amount"], "transfer_remark": body["transfer_remark"], "openid": body["openid"],
                "request": {k: v for k, v in body.items() if k != "user_name"}}
        self.bills[body["out_bill_no"]] = bill
        return 200, {k: bill[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state", "package_info")}

    def signed(self, body: bytes, how: str) -> dict[str, str]:
        if how == "unsigned":
            return {}
        private = generate_rsa_key() if how == "other-key" else self.platform_private
        at = time.time() - 400 if how == "stale" else time.time()
        headers = sign_headers(body, private_key_pem=private, key_id=self.config.platform_key_id, timestamp=int(at),
                               nonce="c5ac7061fccab6bf3e254dcf98995b8c")
        if how == "tampered":
            headers["Wechatpay-Signature"] = sign_headers(body + b" ", private_key_pem=private, key_id="",
                                                          timestamp=int(at), nonce="N")["Wechatpay-Signature"]
        if how == "wrong-serial":
            headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
        return headers


@pytest.fixture
def wechat(keys) -> Iterator[FakeTransfers]:
    fake = FakeTransfers(*keys)

    def respond(method: str, path: str, headers: Any, raw: bytes) -> Answer:
        ok = fake.authorised(method, path, headers, raw)
        body = json.loads(raw) if raw else None
        fake.requests.append({"method": method, "path": path, "body": body, "signed": ok, "raw": raw,
                              "serial": headers.get("Wechatpay-Serial"), "content_type": headers.get("Content-Type")})
        if not ok:
            status, data, how = 401, b'{"code":"SIGN_ERROR","message":"signature mismatch"}', "unsigned"
        elif fake.script:
            status, data, how = fake.script.pop(0)
        else:
            status, answer = fake.behave(method, path, headers, body or {})
            data, how = json.dumps(answer, ensure_ascii=False).encode(), "ok"
        if fake.stall_after_handling:
            fake.stall_after_handling -= 1
            fake.release.wait(2.0)
        return status, data, fake.signed(data, how) if 200 <= status < 300 else {}

    with serve_on_loopback(answering(respond), before_stop=fake.release.set) as base:
        fake.base = base
        yield fake


# Creating a bill


def test_a_bill_is_created_with_a_signed_request_declaring_the_scene_and_waits_for_the_user(wechat):
    bill = wechat.client().create_bill("w0001", "o-alice", 5_000, "佣金提现", "张三")
    [request] = wechat.requests
    assert (request["method"], request["path"], request["signed"], request["content_type"]) == (
        "POST", BILLS, True, "application/json")
    assert {k: v for k, v in request["body"].items() if k != "user_name"} == {
        "appid": "wx-test-app", "out_bill_no": "w0001", "openid": "o-alice", "transfer_amount": 5_000,
        "transfer_remark": "佣金提现", "transfer_scene_id": "1005", "user_recv_perception": "劳务报酬",
        "transfer_scene_report_infos": [{"info_type": "岗位类型", "info_content": "推广员"},
                                        {"info_type": "报酬说明", "info_content": "佣金提现"}],
        "notify_url": "https://shop.example.com/v1/wechat/transfer/notify"}
    assert wechat.names["w0001"] == "张三"  # below 2,000 yuan too (next test)
    assert (bill.out_bill_no, bill.state, bill.package_info, bill.amount_fen) == (
        "w0001", TransferState.WAIT_USER_CONFIRM, "PKG0", None)
    assert bill.transfer_bill_no == wechat.bills["w0001"]["transfer_bill_no"]
    assert bill.updated_at == datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # create_time, Beijing → UTC


@pytest.mark.parametrize("amount_fen", [100, 199_999, 200_000, 250_000])
def test_every_bill_body_carries_the_real_name_encrypted_with_the_wechat_pay_public_key(wechat, keys, amount_fen):
    """DOMAIN.md §9: not only from 2,000 yuan (WeChat's own minimum), so that WeChat compares the
    verified name with the account's real name on every transfer."""
    client = wechat.client()
    client.create_bill("w0002", "o-bob", amount_fen, "佣金提现", "张三")
    [request] = wechat.requests
    assert request["serial"] == keys[0].platform_key_id
    assert "张三".encode() not in request["raw"] and request["body"]["user_name"] != "张三"
    assert decrypt_sensitive(keys[1], request["body"]["user_name"]) == "张三"  # RSA-OAEP for the platform key
    assert wechat.names["w0002"] == "张三"  # WeChat Pay, holding the private key, reads it
    client.create_bill("w0003", "o-bob", amount_fen, "佣金提现", "张三")
    assert wechat.requests[1]["body"]["user_name"] != request["body"]["user_name"]  # OAEP: fresh each time


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_bill_without_the_real_name_is_a_programming_error_and_nothing_is_sent(wechat, blank):
    with pytest.raises(ValueError, match="user_name"):
        wechat.client().create_bill("w0004", "o-bob", 100, "佣金提现", blank)
    assert wechat.requests == [] and wechat.bills == {}


def test_creating_again_with_the_same_number_returns_the_same_bill_and_never_a_second_one(wechat):
    client = wechat.client()
    first = client.create_bill("w0005", "o-alice", 5_000, "佣金提现", "张三")
    again = client.create_bill("w0005", "o-alice", 5_000, "佣金提现", "张三")
    assert again == first and list(wechat.bills) == ["w0005"]
    bodies = [{k: v for k, v in r["body"].items() if k != "user_name"} for r in wechat.requests]
    assert bodies[0] == bodies[1]  # the same parameters; the name sealed afresh (OAEP), the same once read
    assert {decrypt_sensitive(wechat.platform_private, r["body"]["user_name"]) for r in wechat.requests} == {"张三"}


def test_an_answer_lost_on_the_way_back_is_unavailable_and_the_retry_finds_the_bill_already_made(wechat):
    client = wechat.client(budget=HttpBudget(0.3, 0.3))
    wechat.stall_after_handling = 1
    with pytest.raises(Unavailable):
        client.create_bill("w0006", "o-alice", 5_000, "佣金提现", "张三")
    assert len(wechat.requests) == 1 and list(wechat.bills) == ["w0006"]  # WeChat made it; we did not hear
    bill = client.create_bill("w0006", "o-alice", 5_000, "佣金提现", "张三")
    assert bill.transfer_bill_no == wechat.bills["w0006"]["transfer_bill_no"] and len(wechat.bills) == 1


def test_the_same_number_with_other_parameters_is_refused_not_paid_twice(wechat):
    client = wechat.client()
    client.create_bill("w0007", "o-alice", 5_000, "佣金提现", "张三")
    with pytest.raises(TransferRejected) as refused:
        client.create_bill("w0007", "o-alice", 6_000, "佣金提现", "张三")
    assert refused.value.details["wechat_code"] == "INVALID_REQUEST" and len(wechat.bills) == 1


def test_a_merchant_balance_too_low_is_refused_with_not_enough_and_the_same_number_pays_after_a_top_up(wechat):
    client, wechat.balance_too_low = wechat.client(), True
    with pytest.raises(TransferRejected) as refused:
        client.create_bill("w0008", "o-alice", 5_000, "佣金提现", "张三")
    assert refused.value.details == {"wechat_code": "NOT_ENOUGH", "wechat_status": 403}
    wechat.balance_too_low = False
    assert client.create_bill("w0008", "o-alice", 5_000, "佣金提现", "张三").state is TransferState.WAIT_USER_CONFIRM


def test_a_remark_longer_than_wechat_allows_is_cut_to_32_characters(wechat):
    wechat.client().create_bill("w0009", "o-alice", 100, "提" * 40, "张三")
    body = wechat.requests[0]["body"]
    assert body["transfer_remark"] == "提" * 32 and body["transfer_scene_report_infos"][1]["info_content"] == "提" * 32


@pytest.mark.parametrize("number", ["w-0001", "w_0001", "", "w" * 33, "提现1"])
def test_a_bill_number_wechat_would_refuse_is_a_programming_error_and_nothing_is_sent(wechat, number):
    with pytest.raises(ValueError, match="letters and digits"):
        wechat.client().create_bill(number, "o-alice", 100, "r", "张三")
    with pytest.raises(ValueError, match="out_bill_no must be 1-32 letters and digits"):
        wechat.client().query_bill(number)
    assert wechat.requests == []


def test_the_cash_marketing_scene_reports_its_own_fields_and_no_notify_url_means_polling(wechat):
    scene = TransferScene(scene_id="1000", report_title="新会员有礼")
    wechat.client(scene).create_bill("w0010", "o-alice", 100, "注册奖励", "张三")
    body = wechat.requests[0]["body"]
    assert (body["transfer_scene_id"], body["user_recv_perception"], "notify_url" in body) == ("1000", "现金奖励", False)
    assert body["transfer_scene_report_infos"] == [{"info_type": "活动名称", "info_content": "新会员有礼"},
                                                   {"info_type": "奖励说明", "info_content": "注册奖励"}]


# Query and cancel


def test_query_reads_the_bill_by_our_number_with_wechats_amount_and_last_change(wechat):
    client = wechat.client()
    client.create_bill("w0011", "o-alice", 5_000, "佣金提现", "张三")
    bill = client.query_bill("w0011")
    assert wechat.requests[1]["path"] == f"{BILLS}/out-bill-no/w0011" and wechat.requests[1]["signed"]
    assert wechat.requests[1]["body"] is None
    assert bill is not None and (bill.state, bill.amount_fen, bill.package_info) == (
        TransferState.WAIT_USER_CONFIRM, 5_000, None)
    assert bill.updated_at == datetime(2026, 11, 10, 4, 0, 1, tzinfo=UTC)  # update_time wins over create_time


def test_query_of_a_number_wechat_does_not_know_is_none(wechat):
    assert wechat.client().query_bill("w0404") is None


def test_query_refused_otherwise_is_a_refusal_not_none(wechat):
    wechat.then(400, {"code": "PARAM_ERROR", "message": "商户单号不合法"})
    with pytest.raises(TransferRejected):
        wechat.client().query_bill("w0012")


def test_cancel_posts_an_empty_signed_body_and_returns_the_canceling_bill(wechat):
    client = wechat.client()
    client.create_bill("w0013", "o-alice", 5_000, "佣金提现", "张三")
    bill = client.cancel_bill("w0013")
    request = wechat.requests[1]
    assert (request["method"], request["path"], request["raw"], request["signed"]) == (
        "POST", f"{BILLS}/out-bill-no/w0013/cancel", b"", True)
    assert (bill.state, bill.transfer_bill_no) == (TransferState.CANCELING, wechat.bills["w0013"]["transfer_bill_no"])
    assert not bill.state.final


def test_cancelling_an_unknown_bill_is_refused_with_wechats_code(wechat):
    with pytest.raises(TransferRejected) as refused:
        wechat.client().cancel_bill("w0404")
    assert refused.value.details["wechat_code"] == "NOT_FOUND"


# Failures


@pytest.mark.parametrize(("status", "raw"), [(500, b'{"code":"SYSTEM_ERROR","message":"busy"}'), (502, b"<html>"),
                                             (429, b'{"code":"FREQUENCY_LIMITED","message":"slow down"}')])
def test_a_busy_or_broken_wechat_pay_is_unavailable_for_a_retry_with_the_same_number(wechat, status, raw):
    wechat.then(status, raw=raw)
    with pytest.raises(Unavailable):
        wechat.client().create_bill("w0014", "o-alice", 100, "r", "张三")


def test_an_unreachable_wechat_pay_is_unavailable(keys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = PayConfig(**{**keys[0].__dict__, "api_base": f"http://127.0.0.1:{port}"})
    with pytest.raises(Unavailable):
        RealTransferClient(config, SCENE, budget=HttpBudget(0.3, 0.3)).query_bill("w0015")


@pytest.mark.parametrize("how", ["unsigned", "tampered", "other-key", "wrong-serial", "stale"])
def test_an_answer_that_does_not_verify_is_not_trusted_and_is_unavailable(wechat, how):
    wechat.then(200, {"out_bill_no": "w0016", "transfer_bill_no": "1", "state": "SUCCESS"}, sign=how)
    with pytest.raises(Unavailable) as failed:
        wechat.client().query_bill("w0016")
    assert failed.value.details == {"reason": "unverified_response"}
    assert isinstance(failed.value.__cause__, InvalidSignature)


@pytest.mark.parametrize("answer", [b"not json", b"{}", b'{"out_bill_no":"w0017","state":"PAID"}',
                                    b'{"out_bill_no":"w0017","state":"SUCCESS","transfer_amount":"5000"}',
                                    b'{"out_bill_no":"w0017","state":"SUCCESS","update_time":"2026-11-10T12:00:00"}',
                                    b'{"out_bill_no":"w9999","state":"SUCCESS"}', b"[]"])
def test_a_signed_answer_that_is_not_this_bill_is_unavailable(wechat, answer):
    wechat.then(200, raw=answer)
    with pytest.raises(Unavailable):
        wechat.client().query_bill("w0017")


def test_a_client_with_the_wrong_merchant_key_is_refused_by_wechat(wechat, keys):
    wrong = PayConfig(**{**keys[0].__dict__, "merchant_private_key_pem": generate_rsa_key(),
                         "api_base": wechat.base})
    with pytest.raises(TransferRejected) as refused:
        RealTransferClient(wrong, SCENE).create_bill("w0018", "o-alice", 100, "r", "张三")
    assert refused.value.details["wechat_code"] == "SIGN_ERROR" and not wechat.requests[0]["signed"]


# Choosing the client from the settings


def test_simulator_mode_transfers_through_the_simulator_with_the_scene_of_the_settings():
    client = transfer_client(settings_from_env({"WECHAT_TRANSFER_SCENE_ID": "1000",
                                                "WECHAT_TRANSFER_REPORT_TITLE": "新会员有礼"}))
    assert isinstance(client, TransferSimulator)
    assert (client.scene.scene_id, client.scene.report_title, client.scene.notify_url) == ("1000", "新会员有礼", "")


def test_live_mode_transfers_through_the_real_client_with_the_pay_keys(keys):
    config, _ = keys
    env = {"FENXIAO_MODE": "live", "JWT_SECRET": "k" * 32, "ID_HASH_KEY": "h" * 32, "WECHAT_APP_SECRET": "s",
           "WECHAT_APP_ID": "wx-live",
           "WECHAT_PAY_MCH_ID": "1230000109", "WECHAT_PAY_APIV3_KEY": config.apiv3_key,
           "WECHAT_PAY_MERCHANT_SERIAL": config.merchant_serial,
           "WECHAT_PAY_MERCHANT_PRIVATE_KEY": config.merchant_private_key_pem,
           "WECHAT_PAY_PLATFORM_PUBLIC_KEY": config.platform_public_key_pem,
           "WECHAT_PAY_PLATFORM_KEY_ID": config.platform_key_id,
           "WECHAT_PAY_NOTIFY_URL": "https://shop.example.com/v1/wechat/pay/notify",
           "WECHAT_TRANSFER_NOTIFY_URL": "https://shop.example.com/v1/wechat/transfer/notify"}
    client = transfer_client(settings_from_env(env))
    assert isinstance(client, RealTransferClient)
    assert (client.config.mch_id, client.config.app_id, client.scene) == (
        "1230000109", "wx-live", TransferScene(notify_url="https://shop.example.com/v1/wechat/transfer/notify"))


@pytest.mark.parametrize("env", [{"WECHAT_TRANSFER_SCENE_ID": "1009"}, {"WECHAT_TRANSFER_REPORT_TITLE": "x" * 33}])
def test_a_transfer_scene_we_cannot_report_refuses_to_start(env):
    with pytest.raises(ValidationError):
        settings_from_env(env)
    with pytest.raises(ValueError, match=r"transfer scene '1009' is not supported|report title is 1-32 characters"):
        TransferScene(scene_id=env.get("WECHAT_TRANSFER_SCENE_ID", "1005"),
                      report_title=env.get("WECHAT_TRANSFER_REPORT_TITLE", "推广员"))
