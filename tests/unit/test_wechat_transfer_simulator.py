"""The merchant-transfer simulator (chalicelib/wechat/transfer_simulator.py), the verification of
``MCHTRANSFER.BILL.FINISHED`` notifications it builds for real (chalicelib/wechat/transfer.py),
the bill states (transfer_results.py) and the sensitive-field encryption (pay_crypto.py)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.wechat.pay_crypto import (
    decrypt_sensitive,
    encrypt_resource,
    encrypt_sensitive,
    generate_rsa_key,
    public_key_of,
    sign_headers,
)
from chalicelib.wechat.pay_simulator import PaySimulator, SimulatorCannotSign, simulator_config
from chalicelib.wechat.transfer import (
    InvalidSignature,
    TransferRejected,
    TransferState,
    bill_request,
    verify_transfer_notification,
)
from chalicelib.wechat.transfer_results import TransferBill
from chalicelib.wechat.transfer_simulator import TransferSimulator

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys():
    return simulator_config("wx-test-app")  # (config, platform private key), generated once per process


@pytest.fixture
def sim(keys) -> TransferSimulator:
    return TransferSimulator(*keys, clock=lambda: NOW)


@pytest.fixture(scope="module")
def stranger() -> str:
    return generate_rsa_key()


def created(sim: TransferSimulator, number: str = "w0001", amount_fen: int = 5_000) -> TransferBill:
    return sim.create_bill(number, "o-alice", amount_fen, "佣金提现", "张三")


# The states


def test_only_success_fail_and_cancelled_are_final_and_only_fail_and_cancelled_return_the_money():
    assert {s for s in TransferState if s.final} == {TransferState.SUCCESS, TransferState.FAIL, TransferState.CANCELLED}
    assert {s for s in TransferState if s.returned} == {TransferState.FAIL, TransferState.CANCELLED}
    assert [s.value for s in TransferState] == ["ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM", "TRANSFERING",
                                                "SUCCESS", "FAIL", "CANCELING", "CANCELLED"]


# Creating bills


def test_a_new_bill_waits_for_the_user_with_a_package_for_wx_request_merchant_transfer(sim):
    bill = created(sim)
    assert (bill.out_bill_no, bill.state, bill.amount_fen, bill.updated_at) == (
        "w0001", TransferState.WAIT_USER_CONFIRM, None, NOW)
    assert bill.package_info and bill.transfer_bill_no and bill.transfer_bill_no.startswith("1330000")
    queried = sim.query_bill("w0001")
    assert queried is not None and (queried.amount_fen, queried.package_info) == (5_000, bill.package_info)


def test_the_same_number_twice_is_the_same_bill_and_with_other_parameters_is_refused(sim):
    first = created(sim)
    assert created(sim) == first
    for other in ({"amount_fen": 5_001}, {"openid": "o-bob"}, {"user_name": "李四"}):
        args = {"out_bill_no": "w0001", "openid": "o-alice", "amount_fen": 5_000, "remark": "佣金提现",
                "user_name": "张三", **other}
        with pytest.raises(TransferRejected) as refused:
            sim.create_bill(**args)  # type: ignore[arg-type]
        assert refused.value.details == {"wechat_code": "INVALID_REQUEST", "wechat_status": 400}


def test_every_bill_carries_the_name_and_from_two_thousand_yuan_wechat_requires_it(sim, keys):
    assert created(sim, "w0002", 100).state is TransferState.WAIT_USER_CONFIRM
    assert created(sim, "w0003", 200_000).state is TransferState.WAIT_USER_CONFIRM
    for blank in ("", "  "):  # never a bill without the name: nothing is created
        with pytest.raises(ValueError, match="user_name"):
            sim.create_bill("w0004", "o-alice", 100, "佣金提现", blank)
    assert sim.query_bill("w0004") is None
    # WeChat's own rule, for a request without user_name (our client never sends one)
    body, headers = bill_request(keys[0], sim.scene, "w0005", "o-alice", 200_000, "佣金提现", "张三")
    del body["user_name"]
    with pytest.raises(TransferRejected) as refused:
        sim.receive_bill(body, headers)
    assert refused.value.details["wechat_code"] == "PARAM_ERROR" and sim.query_bill("w0005") is None


def test_the_simulator_reads_the_name_only_as_sealed_for_its_platform_key(sim, keys, stranger):
    config = keys[0]
    body, headers = bill_request(config, sim.scene, "w0006", "o-alice", 100, "佣金提现", "张三")
    assert "张三" not in json.dumps(body, ensure_ascii=False) and headers == {"Wechatpay-Serial": config.platform_key_id}
    for bad_body, bad_headers in (
            (body, {"Wechatpay-Serial": "PUB_KEY_ID_OTHER"}),  # the serial names another key
            ({**body, "user_name": encrypt_sensitive(public_key_of(stranger), "张三")}, headers),  # sealed for another
            ({**body, "user_name": "张三"}, headers)):  # not encrypted at all
        with pytest.raises(TransferRejected) as refused:
            sim.receive_bill(bad_body, bad_headers)
        assert refused.value.details["wechat_code"] == "PARAM_ERROR"
    assert sim.query_bill("w0006") is None
    assert sim.receive_bill(body, headers).state is TransferState.WAIT_USER_CONFIRM


@pytest.mark.parametrize(("amount", "openid", "remark"), [(0, "o-a", "r"), (-1, "o-a", "r"), (1, "", "r"), (1, "o-a", "")])
def test_wechats_other_parameter_refusals(sim, amount, openid, remark):
    with pytest.raises(TransferRejected) as refused:
        sim.create_bill("w0004", openid, amount, remark, "张三")
    assert refused.value.details["wechat_code"] == "PARAM_ERROR"


def test_a_balance_too_low_refuses_without_making_a_bill_and_the_same_number_works_after_a_top_up(sim):
    sim.balance_too_low = True
    with pytest.raises(TransferRejected) as refused:
        created(sim)
    assert refused.value.details == {"wechat_code": "NOT_ENOUGH", "wechat_status": 403}
    assert sim.query_bill("w0001") is None
    sim.balance_too_low = False
    assert created(sim).state is TransferState.WAIT_USER_CONFIRM


def test_a_bill_number_wechat_would_refuse_is_a_programming_error(sim):
    with pytest.raises(ValueError, match="out_bill_no must be 1-32 letters and digits"):
        sim.create_bill("w-1", "o-alice", 100, "r", "张三")


# The user's answer, and WeChat's notification


@pytest.mark.parametrize(("outcome", "state", "fail_reason"), [
    ("success", TransferState.SUCCESS, None), ("fail", TransferState.FAIL, "PAYEE_ACCOUNT_ABNORMAL"),
    ("cancel", TransferState.CANCELLED, None)])
def test_the_users_answer_ends_the_bill_and_the_signed_notification_says_so(sim, keys, outcome, state, fail_reason):
    made = created(sim)
    headers, body = sim.confirm("w0001", outcome, NOW + timedelta(minutes=2))
    bill = verify_transfer_notification(headers, body, NOW + timedelta(minutes=2, seconds=3), keys[0])
    assert (bill.out_bill_no, bill.transfer_bill_no, bill.state, bill.amount_fen, bill.fail_reason) == (
        "w0001", made.transfer_bill_no, state, 5_000, fail_reason)
    assert bill.updated_at == NOW + timedelta(minutes=2) and bill.package_info is None
    assert sim.query_bill("w0001") == TransferBill("w0001", made.transfer_bill_no, state, 5_000, None, fail_reason,
                                                   NOW + timedelta(minutes=2))
    envelope = json.loads(body)
    assert (envelope["event_type"], envelope["resource"]["algorithm"]) == ("MCHTRANSFER.BILL.FINISHED", "AEAD_AES_256_GCM")
    assert "w0001" not in body.decode()  # the bill is encrypted on the wire


@pytest.mark.parametrize(("account_name", "state", "fail_reason"), [
    ("李四", TransferState.FAIL, "NAME_NOT_CORRECT"),  # user_name is not the account's real name
    ("张三", TransferState.SUCCESS, None),  # the same name
    (None, TransferState.SUCCESS, None)])  # an account whose name the simulator was not told
def test_wechat_compares_the_name_with_the_accounts_real_name_when_the_user_confirms(sim, keys, account_name, state,
                                                                                   fail_reason):
    if account_name:
        sim.know_real_name("o-alice", account_name)
    assert created(sim).state is TransferState.WAIT_USER_CONFIRM  # the name is checked when the money moves
    headers, body = sim.confirm("w0001", "success", NOW + timedelta(minutes=2))
    bill = verify_transfer_notification(headers, body, NOW + timedelta(minutes=2), keys[0])
    assert (bill.state, bill.fail_reason) == (state, fail_reason)
    again = verify_transfer_notification(*sim.confirm("w0001", "success", NOW + timedelta(minutes=3)),
                                         NOW + timedelta(minutes=3), keys[0])
    assert (again.state, again.fail_reason) == (state, fail_reason)  # notified again, the same way
    queried = sim.query_bill("w0001")
    assert queried is not None and (queried.state, queried.fail_reason) == (state, fail_reason)


def test_a_bill_ended_the_same_way_is_notified_again_and_one_ended_otherwise_cannot_change(sim, keys):
    created(sim)
    sim.confirm("w0001", "success", NOW)
    headers, body = sim.confirm("w0001", "success", NOW + timedelta(minutes=1))
    assert verify_transfer_notification(headers, body, NOW + timedelta(minutes=1), keys[0]).state is TransferState.SUCCESS
    with pytest.raises(ValueError, match="ended as SUCCESS"):
        sim.confirm("w0001", "fail", NOW)
    with pytest.raises(ValueError, match="no transfer bill w0404"):
        sim.confirm("w0404", "success", NOW)
    with pytest.raises(ValueError, match="outcome is one of"):
        sim.confirm("w0001", "maybe", NOW)


def test_a_bill_the_user_has_not_confirmed_can_be_cancelled_once_and_a_paid_one_cannot(sim, keys):
    made = created(sim)
    cancelled = sim.cancel_bill("w0001")
    assert (cancelled.state, cancelled.transfer_bill_no, cancelled.package_info) == (
        TransferState.CANCELLED, made.transfer_bill_no, None)
    assert sim.cancel_bill("w0001").state is TransferState.CANCELLED
    headers, body = sim.confirm("w0001", "cancel", NOW)  # WeChat's notification of the cancellation
    assert verify_transfer_notification(headers, body, NOW, keys[0]).state.returned
    created(sim, "w0002")
    sim.confirm("w0002", "success", NOW)
    with pytest.raises(TransferRejected) as refused:
        sim.cancel_bill("w0002")
    assert refused.value.details["wechat_code"] == "INVALID_REQUEST"
    with pytest.raises(TransferRejected) as unknown:
        sim.cancel_bill("w0404")
    assert unknown.value.details["wechat_code"] == "NOT_FOUND"


def test_a_paid_bill_created_again_is_answered_as_it_is_never_paid_again(sim):
    created(sim)
    sim.confirm("w0001", "success", NOW)
    again = created(sim)
    assert again.state is TransferState.SUCCESS and again.package_info is None


def test_a_simulator_holding_only_a_real_public_key_cannot_sign(keys, stranger):
    config, _ = simulator_config("wx-real", platform_public_key_pem=public_key_of(stranger),
                                 platform_key_id="PUB_KEY_ID_0114232021000000000000000000")
    sim = TransferSimulator(config, None, clock=lambda: NOW)
    created(sim)
    with pytest.raises(SimulatorCannotSign, match="WECHAT_PAY_SIMULATOR_PLATFORM_PRIVATE_KEY"):
        sim.confirm("w0001", "success", NOW)


# Notifications that must be refused


def _resign(body: bytes, private_key_pem: str, key_id: str, at: datetime = NOW) -> dict[str, str]:
    return sign_headers(body, private_key_pem=private_key_pem, key_id=key_id, timestamp=int(at.timestamp()), nonce="N" * 32)


@pytest.mark.parametrize("case", ["tampered-body", "reserialised-body", "tampered-signature", "wrong-serial", "stale",
                                  "future", "signed-by-another-key", "unsigned", "missing-nonce"])
def test_a_forged_stale_or_tampered_notification_is_refused(sim, keys, stranger, case):
    config = keys[0]
    created(sim)
    headers, body = sim.confirm("w0001", "success", NOW)
    now = NOW
    if case == "tampered-body":
        body = body.replace(b'"summary":"', b'"summary":"x')
    elif case == "reserialised-body":
        body = json.dumps(json.loads(body), indent=1).encode()
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
    elif case == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif case == "missing-nonce":
        del headers["Wechatpay-Nonce"]
    with pytest.raises(InvalidSignature):
        verify_transfer_notification(headers, body, now, config)


def test_a_genuine_payment_notification_is_not_taken_for_a_transfer(keys):
    pay = PaySimulator(*keys, clock=lambda: NOW)
    pay.prepay("T100001", "d", 100, "o-alice", NOW + timedelta(minutes=30))
    headers, body = pay.build_payment_notification("T100001", NOW)
    with pytest.raises(InvalidSignature, match="not a transfer notification"):
        verify_transfer_notification(headers, body, NOW, keys[0])


def _signed_transfer(keys, resource: dict[str, object]) -> tuple[dict[str, str], bytes]:
    config, platform_private = keys
    sealed = encrypt_resource(config.apiv3_key, json.dumps(resource).encode(), associated_data="mch_payment",
                              nonce="abcdefghijkl", original_type="mch_payment")
    body = json.dumps({"id": "EV-1", "event_type": "MCHTRANSFER.BILL.FINISHED", "resource_type": "encrypt-resource",
                       "resource": sealed}).encode()
    return _resign(body, platform_private, config.platform_key_id), body


GOOD = {"mchid": "1900000109", "out_bill_no": "w0001", "transfer_bill_no": "1330000", "state": "SUCCESS",
        "transfer_amount": 5_000, "openid": "o-alice", "create_time": "2026-11-10T12:00:00.120+08:00",
        "update_time": "2026-11-10T12:01:00+08:00"}


def test_a_validly_signed_transfer_resource_as_wechat_documents_it_parses(keys):
    bill = verify_transfer_notification(*_signed_transfer(keys, GOOD), NOW, keys[0])
    assert (bill.state, bill.amount_fen, bill.updated_at) == (TransferState.SUCCESS, 5_000, datetime(2026, 11, 10, 4, 1,
                                                                                                      tzinfo=UTC))


@pytest.mark.parametrize("bad", [{"mchid": "1230000109"}, {"state": "PAID"}, {"state": None}, {"out_bill_no": ""},
                                 {"transfer_amount": "5000"}, {"transfer_amount": -1}, {"transfer_amount": True},
                                 {"update_time": "2026-11-10T12:01:00"}, {"update_time": "yesterday"}])
def test_a_validly_signed_transfer_resource_that_is_malformed_or_not_ours_is_refused(keys, bad):
    with pytest.raises(InvalidSignature):
        verify_transfer_notification(*_signed_transfer(keys, {**GOOD, **bad}), NOW, keys[0])


# The real name's encryption


def test_the_real_name_is_sealed_for_the_holder_of_the_private_key_only(stranger):
    sealed = encrypt_sensitive(public_key_of(stranger), "欧阳娜娜")
    assert decrypt_sensitive(stranger, sealed) == "欧阳娜娜"
    assert encrypt_sensitive(public_key_of(stranger), "欧阳娜娜") != sealed  # randomised padding
    with pytest.raises(ValueError, match="does not decrypt"):
        decrypt_sensitive(generate_rsa_key(), sealed)
    with pytest.raises(ValueError, match="does not decrypt"):
        decrypt_sensitive(stranger, "not base64!")
