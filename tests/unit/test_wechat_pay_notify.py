"""Notification verification (chalicelib/wechat/pay.py) against notifications the simulator builds
for real, and the simulator's own protocol (chalicelib/wechat/pay_simulator.py)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.wechat.pay import (
    InvalidSignature,
    PaymentResult,
    PayRejected,
    RefundResult,
    verify_notification,
)
from chalicelib.wechat.pay_crypto import encrypt_resource, generate_rsa_key, public_key_of, sign_headers, verify_signature
from chalicelib.wechat.pay_simulator import PaySimulator, SimulatorCannotSign, simulator_config

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=30)


@pytest.fixture(scope="module")
def keys():
    return simulator_config("wx-test-app")  # (config, platform private key), generated once per process


@pytest.fixture
def sim(keys) -> PaySimulator:
    return PaySimulator(*keys, clock=lambda: NOW)


@pytest.fixture(scope="module")
def stranger() -> str:
    return generate_rsa_key()


def paid(sim: PaySimulator, out_trade_no: str = "T100001", amount_fen: int = 12_900, **kw: object):
    sim.prepay(out_trade_no, "两件套", amount_fen, "o-alice", EXPIRES)
    return sim.build_payment_notification(out_trade_no, NOW, **kw)  # type: ignore[arg-type]


# The happy path


def test_the_simulators_payment_notification_verifies_and_its_amounts_parse(sim, keys):
    headers, body = paid(sim)
    notification = verify_notification(headers, body, NOW + timedelta(seconds=3), keys[0])
    assert notification.event_type == "TRANSACTION.SUCCESS" and notification.id.startswith("EV-")
    payment = PaymentResult.from_resource(notification.resource)
    assert (payment.out_trade_no, payment.trade_state, payment.total_fen, payment.payer_total_fen, payment.currency) == (
        "T100001", "SUCCESS", 12_900, 12_900, "CNY")
    assert (payment.mch_id, payment.app_id, payment.payer_openid) == ("1900000109", "wx-test-app", "o-alice")
    assert payment.transaction_id and payment.transaction_id.startswith("4200")
    assert payment.success_time == NOW
    assert json.loads(body)["resource"]["algorithm"] == "AEAD_AES_256_GCM"  # encrypted on the wire
    assert "T100001" not in body.decode()


def test_header_names_are_matched_in_any_case(sim, keys):
    headers, body = paid(sim)
    assert verify_notification({k.lower(): v for k, v in headers.items()}, body, NOW, keys[0]).resource


def test_the_timestamp_may_be_up_to_five_minutes_either_way(sim, keys):
    headers, body = paid(sim)
    for skew in (300, -300):
        verify_notification(headers, body, NOW + timedelta(seconds=skew), keys[0])


def test_a_refund_notification_verifies_and_parses(sim, keys):
    paid(sim)
    outcome = sim.refund("T100001", "R1", 900, 12_900, "缺货")
    headers, body = sim.build_refund_notification("T100001", "R1", NOW)
    notification = verify_notification(headers, body, NOW, keys[0])
    refund = RefundResult.from_resource(notification.resource)
    assert notification.event_type == "REFUND.SUCCESS"
    assert (refund.out_trade_no, refund.out_refund_no, refund.refund_id, refund.refund_status) == (
        "T100001", "R1", outcome.refund_id, "SUCCESS")
    assert (refund.total_fen, refund.refund_fen, refund.payer_refund_fen) == (12_900, 900, 900)


def test_a_notification_reports_the_amount_wechat_says_was_paid_for_the_caller_to_compare(sim, keys):
    sim.prepay("T100001", "两件套", 12_900, "o-alice", EXPIRES)
    headers, body = sim.build_payment_notification("T100001", NOW, amount_fen=1)
    payment = PaymentResult.from_resource(verify_notification(headers, body, NOW, keys[0]).resource)
    assert payment.total_fen == 1  # not the order's 12 900: the order code must refuse the mismatch


# Refusals


def _resign(body: bytes, private_key_pem: str, key_id: str, at: datetime = NOW) -> dict[str, str]:
    return sign_headers(body, private_key_pem=private_key_pem, key_id=key_id, timestamp=int(at.timestamp()), nonce="N" * 32)


@pytest.mark.parametrize("case", ["tampered-body", "reserialised-body", "tampered-signature", "wrong-serial",
                                  "stale", "future", "signed-by-another-key", "signtest-probe", "not-a-number-time"])
def test_a_notification_that_does_not_verify_is_refused(sim, keys, stranger, case):
    config = keys[0]
    headers, body = paid(sim)
    now = NOW
    if case == "tampered-body":
        body = body.replace(b'"summary":"', b'"summary":"x')
    elif case == "reserialised-body":
        body = json.dumps(json.loads(body), indent=1).encode()  # same JSON, other bytes: the RAW body is what is signed
    elif case == "tampered-signature":
        signature = headers["Wechatpay-Signature"]
        headers["Wechatpay-Signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif case == "wrong-serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
    elif case == "stale":
        now = NOW + timedelta(seconds=301)
    elif case == "future":
        now = NOW - timedelta(seconds=301)
    elif case == "signed-by-another-key":
        headers = _resign(body, stranger, config.platform_key_id)
    elif case == "signtest-probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    elif case == "not-a-number-time":
        headers["Wechatpay-Timestamp"] = "1794283200.0"
    with pytest.raises(InvalidSignature):
        verify_notification(headers, body, now, config)


@pytest.mark.parametrize("header", ["Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce"])
@pytest.mark.parametrize("how", ["missing", "empty"])
def test_a_notification_without_each_signature_header_is_refused(sim, keys, header, how):
    headers, body = paid(sim)
    if how == "missing":
        del headers[header]
    else:
        headers[header] = " "
    with pytest.raises(InvalidSignature):
        verify_notification(headers, body, NOW, keys[0])


def test_an_unsigned_notification_is_refused(sim, keys):
    _, body = paid(sim)
    with pytest.raises(InvalidSignature):
        verify_notification({"Content-Type": "application/json"}, body, NOW, keys[0])


def _signed_envelope(keys, resource: object, **envelope: object) -> tuple[dict[str, str], bytes]:
    config, platform_private = keys
    body = json.dumps({"id": "EV-1", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource",
                       "resource": resource, **envelope}).encode()
    return _resign(body, platform_private, config.platform_key_id), body


@pytest.mark.parametrize("case", ["other-apiv3-key", "resource-not-json", "resource-not-an-object", "no-resource"])
def test_a_validly_signed_notification_whose_resource_does_not_decrypt_to_an_object_is_refused(keys, case):
    plaintext, key = b'{"out_trade_no":"T1"}', keys[0].apiv3_key
    if case == "other-apiv3-key":
        key = "Z" * 32
    elif case == "resource-not-json":
        plaintext = b"out_trade_no=T1"
    elif case == "resource-not-an-object":
        plaintext = b'["T1"]'
    resource = encrypt_resource(key, plaintext, associated_data="transaction", nonce="abcdefghijkl",
                                original_type="transaction")
    headers, body = _signed_envelope(keys, None if case == "no-resource" else resource)
    with pytest.raises(InvalidSignature):
        verify_notification(headers, body, NOW, keys[0])


@pytest.mark.parametrize("raw", [b"not json", b'["a list"]', b'{"event_type":"TRANSACTION.SUCCESS"}', b"\xff\xfe"])
def test_a_validly_signed_body_that_is_not_a_notification_is_refused(keys, raw):
    config, platform_private = keys
    with pytest.raises(InvalidSignature):
        verify_notification(_resign(raw, platform_private, config.platform_key_id), raw, NOW, config)


@pytest.mark.parametrize("amount", [{"total": "12900"}, {"total": 129.0}, {"total": True}, {"total": -1}, {}])
def test_a_payment_resource_with_a_malformed_amount_is_refused(amount):
    resource = {"out_trade_no": "T1", "trade_state": "SUCCESS", "mchid": "1900000109", "amount": amount}
    with pytest.raises(InvalidSignature):
        PaymentResult.from_resource(resource)


def test_a_payment_resource_without_its_order_number_or_with_a_naive_time_is_refused():
    good = {"out_trade_no": "T1", "trade_state": "SUCCESS", "mchid": "1", "amount": {"total": 1}}
    assert PaymentResult.from_resource(good).currency == "CNY"
    for bad in ({**good, "out_trade_no": ""}, {**good, "success_time": "2026-11-10T12:00:00"},
                {**good, "success_time": "yesterday"}, {**good, "payer": "o-1"}):
        with pytest.raises(InvalidSignature):
            PaymentResult.from_resource(bad)


# The simulator's protocol


def test_prepay_with_the_same_parameters_gives_the_same_prepay_id_and_other_parameters_are_refused(sim):
    first = sim.prepay("T200001", "两件套", 100, "o-alice", EXPIRES)
    assert sim.prepay("T200001", "两件套", 100, "o-alice", EXPIRES) == first
    with pytest.raises(PayRejected) as refused:
        sim.prepay("T200001", "两件套", 101, "o-alice", EXPIRES)
    assert refused.value.details["wechat_code"] == "OUT_TRADE_NO_USED"


def test_the_simulators_payment_params_are_signed_with_the_merchant_key(sim, keys):
    params = sim.payment_params(sim.prepay("T200002", "d", 100, "o-alice", EXPIRES))
    message = "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]]) + "\n"
    assert verify_signature(public_key_of(keys[0].merchant_private_key_pem), message.encode(), params["paySign"])


def test_query_follows_the_order_from_unknown_to_unpaid_to_paid(sim):
    assert sim.query("T300001") is None
    sim.prepay("T300001", "d", 500, "o-bob", EXPIRES)
    unpaid = sim.query("T300001")
    assert unpaid and (unpaid.trade_state, unpaid.transaction_id, unpaid.payer_total_fen) == ("NOTPAY", None, None)
    sim.build_payment_notification("T300001", NOW)
    done = sim.query("T300001")
    assert done and (done.trade_state, done.total_fen, done.payer_total_fen) == ("SUCCESS", 500, 500)


def test_refunds_are_idempotent_by_out_refund_no_and_never_exceed_the_payment(sim):
    with pytest.raises(PayRejected):
        sim.refund("T100001", "R1", 100, 12_900, "unpaid")
    paid(sim)
    first = sim.refund("T100001", "R1", 900, 12_900, "缺货")
    assert sim.refund("T100001", "R1", 900, 12_900, "缺货") == first
    assert sim.refund("T100001", "R2", 12_000, 12_900, "rest").refund_id != first.refund_id
    for number, fen in (("R3", 1), ("R1", 901)):
        with pytest.raises(PayRejected):
            sim.refund("T100001", number, fen, 12_900, "too much")


def test_closing_stops_payment_and_a_paid_order_cannot_be_closed(sim):
    sim.close("T-unknown")  # nothing to close
    sim.prepay("T400001", "d", 100, "o-a", EXPIRES)
    sim.close("T400001")
    sim.close("T400001")
    assert sim.query("T400001").trade_state == "CLOSED"  # type: ignore[union-attr]
    with pytest.raises(PayRejected):
        sim.prepay("T400001", "d", 100, "o-a", EXPIRES)
    paid(sim, "T400002")
    with pytest.raises(PayRejected) as refused:
        sim.close("T400002")
    assert refused.value.details["wechat_code"] == "ORDERPAID"


# Key material


def test_simulator_keys_are_made_once_per_process(keys):
    again, private = simulator_config("wx-other-app")
    assert (again.merchant_private_key_pem, again.apiv3_key, again.platform_key_id, private) == (
        keys[0].merchant_private_key_pem, keys[0].apiv3_key, keys[0].platform_key_id, keys[1])


def test_real_settings_win_and_an_outside_holder_of_the_platform_key_can_sign_for_the_verifier(stranger):
    settings = {"mch_id": "1230000109", "apiv3_key": "R" * 32, "platform_public_key_pem": public_key_of(stranger),
                "platform_key_id": "PUB_KEY_ID_0114232021000000000000000000"}
    config, private = simulator_config("wx-real", **settings)  # type: ignore[arg-type]
    assert private is None and config.mch_id == "1230000109" and config.apiv3_key == "R" * 32
    sim = PaySimulator(config, private)
    sim.prepay("T500001", "d", 100, "o-a", EXPIRES)
    with pytest.raises(SimulatorCannotSign, match="WECHAT_PAY_SIMULATOR_PLATFORM_PRIVATE_KEY"):
        sim.build_payment_notification("T500001", NOW)
    config, private = simulator_config("wx-real", **settings, platform_private_key_pem=stranger)  # type: ignore[arg-type]
    headers, body = PaySimulator(config, private).build_payment_notification("T500001", NOW, amount_fen=100)
    assert verify_notification(headers, body, NOW, config).event_type == "TRANSACTION.SUCCESS"
    with pytest.raises(ValueError, match="does not match"):
        simulator_config("wx-real", **settings, platform_private_key_pem=generate_rsa_key())  # type: ignore[arg-type]
