"""WeChat Pay v3 cryptography (chalicelib/wechat/pay_crypto.py): signatures, Authorization,
AEAD_AES_256_GCM resources, and the ``wx.requestPayment`` parameters."""
from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.wechat.pay import InvalidSignature, request_payment_params
from chalicelib.wechat.pay_crypto import (
    aes_gcm_open,
    aes_gcm_seal,
    build_authorization,
    decrypt_resource,
    encrypt_resource,
    generate_rsa_key,
    keys_match,
    lines,
    public_key_of,
    sign_message,
    verify_signature,
)
from chalicelib.wechat.pay_simulator import simulator_config

APIV3_KEY = "0123456789abcdef0123456789ABCDEF"


@pytest.fixture(scope="module")
def merchant() -> tuple[str, str]:
    config, _ = simulator_config("wx-test-app")  # keys generated once per process
    return config.merchant_private_key_pem, public_key_of(config.merchant_private_key_pem)


@pytest.fixture(scope="module")
def stranger() -> str:
    return generate_rsa_key()


# RSA-SHA256


def test_a_signature_verifies_with_the_matching_public_key(merchant):
    private, public = merchant
    assert verify_signature(public, b"GET\n/v3/x\n1\nN\n\n", sign_message(private, b"GET\n/v3/x\n1\nN\n\n"))


def test_a_signature_is_refused_for_another_message_another_key_or_garbage(merchant, stranger):
    private, public = merchant
    signature = sign_message(private, b"message\n")
    assert not verify_signature(public, b"messagE\n", signature)
    assert not verify_signature(public_key_of(stranger), b"message\n", signature)
    flipped = base64.b64encode(bytes([base64.b64decode(signature)[0] ^ 1]) + base64.b64decode(signature)[1:]).decode()
    assert not verify_signature(public, b"message\n", flipped)
    for garbage in ("", "not base64!", "WECHATPAY/SIGNTEST/" + signature[19:], signature[:-4]):
        assert not verify_signature(public, b"message\n", garbage)


def test_keys_given_with_escaped_newlines_or_as_a_certificate_work(merchant):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
    from cryptography.x509.oid import NameOID

    private, public = merchant
    signature = sign_message(private.replace("\n", "\\n"), b"m\n")
    assert verify_signature(public.replace("\n", "\\n"), b"m\n", signature)
    key = load_pem_private_key(private.encode(), None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(0x5157F09E).not_valid_before(now).not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    certificate_pem = certificate.public_bytes(Encoding.PEM).decode()
    assert verify_signature(certificate_pem, b"m\n", signature)
    assert keys_match(private, certificate_pem)


def test_the_authorization_header_carries_a_signature_over_method_path_time_nonce_and_body(merchant):
    private, public = merchant
    body = b'{"mchid":"1900000109"}'
    header = build_authorization("post", "/v3/pay/transactions/out-trade-no/T1/close", body, mch_id="1900000109",
                                 serial_no="5157F09E", private_key_pem=private, timestamp=1554208460, nonce="NONCE1")
    schema, _, params = header.partition(" ")
    assert schema == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
    assert fields.keys() == {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    assert (fields["mchid"], fields["nonce_str"], fields["timestamp"], fields["serial_no"]) == (
        "1900000109", "NONCE1", "1554208460", "5157F09E")
    message = b'POST\n/v3/pay/transactions/out-trade-no/T1/close\n1554208460\nNONCE1\n{"mchid":"1900000109"}\n'
    assert lines("POST", "/v3/pay/transactions/out-trade-no/T1/close", "1554208460", "NONCE1", body) == message
    assert verify_signature(public, message, fields["signature"])


# AEAD_AES_256_GCM


def test_aes_256_gcm_matches_the_published_test_vector():
    # "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega, test case 16 (AES-256, AAD, 96-bit IV).
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    iv = bytes.fromhex("cafebabefacedbaddecaf888")
    plaintext = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                              "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    expected = bytes.fromhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                             "76fc6ece0f4e1768cddf8853bb2d551b")  # ciphertext || tag
    assert aes_gcm_seal(key, iv, plaintext, aad) == expected
    assert aes_gcm_open(key, iv, expected, aad) == plaintext


def test_strings_become_key_nonce_and_associated_data_as_the_official_sdk_does():
    # wechatpay-apiv3/wechatpay-go utils/aes_test.go: the key, nonce and associated data are the
    # UTF-8 bytes of their strings, the ciphertext is base64 of ciphertext || tag.
    sealed = base64.b64decode("FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC")
    assert aes_gcm_open(b"testAPIv3Key0000", b"wCq51qZv4Yfg", sealed, b"Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8") == b"Hello World"


def test_a_resource_decrypts_to_what_was_encrypted():
    resource = encrypt_resource(APIV3_KEY, '{"out_trade_no":"T1","备注":"✓"}'.encode(), associated_data="transaction",
                                nonce="fdasflkja484", original_type="transaction")
    assert resource["algorithm"] == "AEAD_AES_256_GCM" and resource["nonce"] == "fdasflkja484"
    assert decrypt_resource(APIV3_KEY, resource) == '{"out_trade_no":"T1","备注":"✓"}'.encode()


def _tampered(resource: dict[str, str], **changes: str) -> dict[str, str]:
    return {**resource, **changes}


@pytest.mark.parametrize("change", ["ciphertext", "associated_data", "nonce", "key", "algorithm", "not-base64",
                                    "missing-nonce", "not-an-object"])
def test_a_resource_that_was_altered_or_is_malformed_is_refused(change):
    resource = encrypt_resource(APIV3_KEY, b'{"total":100}', associated_data="transaction", nonce="abcdefghijkl",
                                original_type="transaction")
    sealed = bytearray(base64.b64decode(resource["ciphertext"]))
    sealed[0] ^= 1
    key = APIV3_KEY
    altered: object = {
        "ciphertext": _tampered(resource, ciphertext=base64.b64encode(bytes(sealed)).decode()),
        "associated_data": _tampered(resource, associated_data="refund"),
        "nonce": _tampered(resource, nonce="abcdefghijkm"),
        "key": resource,
        "algorithm": _tampered(resource, algorithm="AEAD_AES_128_GCM"),
        "not-base64": _tampered(resource, ciphertext="%%%"),
        "missing-nonce": {k: v for k, v in resource.items() if k != "nonce"},
        "not-an-object": "ciphertext",
    }[change]
    if change == "key":
        key = "X" + APIV3_KEY[1:]
    with pytest.raises(InvalidSignature):
        decrypt_resource(key, altered)


# wx.requestPayment


def test_request_payment_params_are_the_six_fields_signed_with_the_merchant_key(merchant):
    config, _ = simulator_config("wx-test-app")
    now = datetime(2026, 11, 10, 4, 0, 1, 900000, tzinfo=UTC)
    params = request_payment_params(config, "wx201410272009395522657a690389285100", now, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == "wx-test-app"
    assert params["timeStamp"] == str(int(now.timestamp())) == "1794283201"
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert params["signType"] == "RSA"
    message = b"wx-test-app\n1794283201\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"
    assert verify_signature(merchant[1], message, params["paySign"])
