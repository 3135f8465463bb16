"""WeChat's message push (chalicelib/wechat/message_push.py): the signature of WeChat's own
examples, decryption of WeChat's published WXBizMsgCrypt sample, and every way a push fails."""
from __future__ import annotations

import base64
import json

import pytest

from chalicelib.wechat.message_push import (
    InvalidSignature,
    MalformedPush,
    PushKeys,
    aes_key_of,
    decrypt,
    encrypt,
    new_encoding_aes_key,
    open_push,
    parse_message,
    seal_push,
    sha1_signature,
    verify_url,
)

# WeChat's documentation of the push (消息推送, "发起验证" and "明文模式"), Token "AAAAA".
DOC_KEYS = PushKeys("AAAAA", None, "wx-any")

# WeChat's WXBizMsgCrypt sample (cryptoDemo): token, EncodingAESKey, appid and a text message
# encrypted in compatible mode, with its msg_signature.
SAMPLE = PushKeys("spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2")
SAMPLE_TIMESTAMP, SAMPLE_NONCE = "1409735669", "1320562132"
SAMPLE_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2Ld"
    "JF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5"
    "VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgC"
    "SUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9Gh"
    "glF2PE=")
SAMPLE_BODY = ("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLz"
               "SIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               "<Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId>"
               f"<Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>").encode()


def sample_query(**changes: str) -> dict[str, str]:
    query = {"signature": sha1_signature(SAMPLE.token, SAMPLE_TIMESTAMP, SAMPLE_NONCE), "timestamp": SAMPLE_TIMESTAMP,
             "nonce": SAMPLE_NONCE, "encrypt_type": "aes", "msg_signature": SAMPLE_MSG_SIGNATURE}
    return query | changes


def test_the_url_check_of_wechats_documentation_verifies_and_answers_echostr():
    query = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "echostr": "4375120948345356249",
             "timestamp": "1714036504", "nonce": "1514711492"}
    assert verify_url(DOC_KEYS, query) == "4375120948345356249"


def test_the_plain_push_of_wechats_documentation_verifies():
    query = {"signature": "899cf89e464efb63f54ddac96b0a0a235f53aa78", "timestamp": "1714037059", "nonce": "486452656"}
    body = json.dumps({"ToUserName": "gh_97417a04a28d", "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
                       "CreateTime": 1714037059, "MsgType": "event", "Event": "debug_demo", "debug_str": "hello world"})
    assert open_push(DOC_KEYS, query, body.encode())["debug_str"] == "hello world"


@pytest.mark.parametrize("query", [
    {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441697", "timestamp": "1714036504", "nonce": "1514711492"},
    {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036505", "nonce": "1514711492"},
    {"timestamp": "1714036504", "nonce": "1514711492"},
], ids=["signature", "timestamp", "missing"])
def test_a_url_check_that_does_not_verify_is_refused(query):
    with pytest.raises(InvalidSignature):
        verify_url(DOC_KEYS, {**query, "echostr": "1"})


def test_wechats_encrypted_sample_decrypts_to_its_message_for_its_appid():
    message = open_push(SAMPLE, sample_query(), SAMPLE_BODY)
    assert message["FromUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert message["Content"] == "abcdteT"
    assert message["MsgId"] == 6054768590064713728
    assert sha1_signature(SAMPLE.token, SAMPLE_TIMESTAMP, SAMPLE_NONCE, SAMPLE_ENCRYPT) == SAMPLE_MSG_SIGNATURE


def test_in_secure_mode_the_decrypted_message_counts_not_the_plain_fields_beside_it():
    forged = SAMPLE_BODY.replace(b"abcdteT", b"forged!")
    assert open_push(SAMPLE, sample_query(), forged)["Content"] == "abcdteT"


@pytest.mark.parametrize(("keys", "query", "body"), [
    (SAMPLE, sample_query(msg_signature="0" * 40), SAMPLE_BODY),
    (SAMPLE, sample_query(), SAMPLE_BODY.replace(b"hyzAe4", b"hyzAe5")),
    (SAMPLE, sample_query(signature="0" * 40), SAMPLE_BODY),
    (PushKeys(SAMPLE.token, SAMPLE.encoding_aes_key, "wx-another-app"), sample_query(), SAMPLE_BODY),
    (PushKeys(SAMPLE.token, new_encoding_aes_key(), SAMPLE.app_id), sample_query(), SAMPLE_BODY),
    (PushKeys(SAMPLE.token, None, SAMPLE.app_id), sample_query(), SAMPLE_BODY),
], ids=["msg_signature", "tampered-Encrypt", "signature", "another-appid", "another-key", "no-key-configured"])
def test_an_encrypted_push_that_does_not_verify_is_refused(keys, query, body):
    with pytest.raises(InvalidSignature):
        open_push(keys, query, body)


def test_a_re_signed_ciphertext_under_another_key_is_refused_by_padding_or_appid():
    other = PushKeys(SAMPLE.token, new_encoding_aes_key(), SAMPLE.app_id)
    sealed = encrypt(other, b'{"MsgType":"text"}')
    for _ in range(20):  # a wrong key yields random bytes: refused at the padding or the appid, never read
        with pytest.raises(InvalidSignature):
            decrypt(SAMPLE, sealed)
        sealed = encrypt(other, b'{"MsgType":"text"}')


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("encrypted", [True, False], ids=["secure", "plain"])
def test_a_sealed_push_opens_to_the_same_message(fmt, encrypted):
    keys = PushKeys("tok3n", new_encoding_aes_key(), "wx-app")
    message = {"ToUserName": "gh_1", "FromUserName": "o-user", "CreateTime": 1796575424, "MsgType": "text",
               "Content": "请问 <b>发货</b> 了吗]]>&", "MsgId": 9223372036854775807}
    query, body = seal_push(keys, message, 1796575424, fmt, encrypted)
    assert ("encrypt_type" in query) is encrypted
    assert open_push(keys, query, body) == message


@pytest.mark.parametrize("length", [0, 11, 12, 31, 32, 33, 500])
def test_encryption_pads_to_32_bytes_and_round_trips(length):
    keys = PushKeys("t", new_encoding_aes_key(), "wx-app")
    message = ("字" * length).encode()
    sealed = encrypt(keys, message)
    assert len(base64.b64decode(sealed)) % 32 == 0
    assert decrypt(keys, sealed) == message


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
    b"<xml><Content>unclosed</xml>", b"[1, 2]", b"{not json", b"", b"plain words", b"<other><a>1</a></other>",
], ids=["doctype", "broken-xml", "json-array", "broken-json", "empty", "text", "not-xml-root"])
def test_a_body_that_is_not_a_message_is_malformed(body):
    with pytest.raises(MalformedPush):
        parse_message(body)


@pytest.mark.parametrize("key", ["short", "a" * 44, "*" * 43])
def test_an_encoding_aes_key_is_43_base64_characters(key):
    with pytest.raises(ValueError, match="EncodingAESKey"):
        aes_key_of(key)


def test_a_fresh_encoding_aes_key_decodes_to_32_bytes():
    assert len(aes_key_of(new_encoding_aes_key())) == 32
