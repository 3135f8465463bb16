"""WeChat's message push (消息推送): how the mini-program's customer-service messages reach us.

The operator configures, in the mini-program's console (开发管理 → 消息推送), our URL
(``/v1/wechat/message``), a **Token**, an **EncodingAESKey** (43 characters), the encryption mode
(明文 plain, 兼容 compatible, 安全 secure) and the data format (JSON or XML). Then:

* **URL verification**: ``GET ?signature&timestamp&nonce&echostr``; ``signature`` is
  ``sha1`` of the lexically sorted, concatenated ``[token, timestamp, nonce]``; we answer
  ``echostr`` as it came, in plain text.
* **A push**: ``POST ?signature&timestamp&nonce`` (plus ``openid``), the body a message in JSON
  or XML. In secure (and compatible) mode the query adds ``encrypt_type=aes`` and
  ``msg_signature`` = ``sha1`` of the sorted ``[token, timestamp, nonce, Encrypt]`` and the body
  is ``{"ToUserName", "Encrypt"}`` (``<xml><ToUserName/><Encrypt/></xml>``). ``Encrypt`` is
  WXBizMsgCrypt's layout: ``base64(AES-256-CBC(random 16 bytes + len(msg) as 4 bytes big-endian
  + msg + appid))`` with key ``AESKey = base64decode(EncodingAESKey + "=")`` (32 bytes), IV the
  key's first 16 bytes, PKCS#7 padding to a multiple of **32** bytes. The appid at the end must
  be ours. We answer ``success`` (WeChat retries three times when it gets no answer in 5 s, so
  a push is de-duplicated by ``MsgId``, an event by sender + ``CreateTime``).

``verify_url`` and ``open_push`` are what the endpoint calls; ``seal_push`` builds a push as
WeChat would (the dev route and the tests), so the code that checks it is the code that runs in
production. Signatures are compared in constant time. docs/customer-service.md.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import string
import struct
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chalicelib.domain.errors import Kind, error

InvalidSignature = error("INVALID_SIGNATURE", Kind.UNAUTHENTICATED,
                         "A WeChat push whose signature, msg_signature or encryption does not verify.")
MalformedPush = error("MALFORMED_PUSH", Kind.BAD_REQUEST,
                      "A signed WeChat push whose body is not a message we can read (JSON or XML).")

BLOCK = 32  # WXBizMsgCrypt pads to 32 bytes, not AES's 16
AES_KEY_CHARS = 43
_NONCE = string.ascii_letters + string.digits


@dataclass(frozen=True)
class PushKeys:
    """What the push is signed and encrypted with: the Token, the EncodingAESKey (None: plain
    mode only) and the mini-program's appid (the end of every encrypted message)."""

    token: str
    encoding_aes_key: str | None
    app_id: str

    @property
    def aes_key(self) -> bytes:
        return aes_key_of(self.encoding_aes_key or "")


def aes_key_of(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; ValueError for anything else."""
    if len(encoding_aes_key) != AES_KEY_CHARS:
        raise ValueError(f"an EncodingAESKey has {AES_KEY_CHARS} characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("an EncodingAESKey is base64 (a-z, A-Z, 0-9)") from exc
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def new_encoding_aes_key() -> str:
    """A fresh EncodingAESKey (the simulator's throw-away one)."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted lexically and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's protocol)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.lower().encode(), expected.encode())


def verify_url(keys: PushKeys, query: dict[str, str]) -> str:
    """The ``echostr`` to answer to WeChat's URL verification; InvalidSignature otherwise."""
    if not _same(query.get("signature"), sha1_signature(keys.token, query.get("timestamp", ""),
                                                         query.get("nonce", ""))):
        raise InvalidSignature("the signature does not verify against our Token")
    return query.get("echostr", "")


def open_push(keys: PushKeys, query: dict[str, str], body: bytes) -> dict[str, Any]:
    """The message of a push, as a dict of WeChat's fields (``FromUserName``, ``MsgType``, ...),
    once its signature (and in secure mode its ``msg_signature``, encryption and appid) verify.
    InvalidSignature when they do not; MalformedPush for a signed body we cannot read."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not _same(query.get("signature"), sha1_signature(keys.token, timestamp, nonce)):
        raise InvalidSignature("the signature does not verify against our Token")
    outer = parse_message(body)
    if query.get("encrypt_type", "raw") != "aes":
        return outer
    encrypted = outer.get("Encrypt")
    if not isinstance(encrypted, str) or not keys.encoding_aes_key:
        raise InvalidSignature("an encrypted push needs its Encrypt field and our EncodingAESKey")
    if not _same(query.get("msg_signature"), sha1_signature(keys.token, timestamp, nonce, encrypted)):
        raise InvalidSignature("the msg_signature does not verify")
    return parse_message(decrypt(keys, encrypted))


def decrypt(keys: PushKeys, encrypted: str) -> bytes:
    """The message inside ``Encrypt`` (WXBizMsgCrypt's layout), its appid checked."""
    key = keys.aes_key
    try:
        data = base64.b64decode(encrypted, validate=True)
    except binascii.Error as exc:
        raise InvalidSignature("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise InvalidSignature("Encrypt is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
        raise InvalidSignature("Encrypt does not decrypt with our EncodingAESKey")
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, app_id = plain[20:20 + length], plain[20 + length:]
    if len(message) != length or not hmac.compare_digest(app_id, keys.app_id.encode()):
        raise InvalidSignature("the encrypted message is not for our appid")
    return message


def encrypt(keys: PushKeys, message: bytes, random16: bytes | None = None) -> str:
    """``Encrypt`` of a message (what WeChat sends; the dev route's and the tests' side)."""
    key = keys.aes_key
    plain = (random16 or secrets.token_bytes(16)) + struct.pack(">I", len(message)) + message + keys.app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def seal_push(keys: PushKeys, message: dict[str, Any], timestamp: int, fmt: str = "json",
              encrypted: bool = True, nonce: str | None = None) -> tuple[dict[str, str], bytes]:
    """The query and body of a push as WeChat sends it: ``fmt`` json or xml, secure mode when
    ``encrypted`` (then the outer body carries only ``ToUserName`` and ``Encrypt``)."""
    nonce = nonce or "".join(secrets.choice(_NONCE) for _ in range(10))
    ts = str(timestamp)
    query = {"signature": sha1_signature(keys.token, ts, nonce), "timestamp": ts, "nonce": nonce,
             "openid": str(message.get("FromUserName", ""))}
    inner = render_message(message, fmt)
    if not encrypted:
        return query, inner
    sealed = encrypt(keys, inner)
    query |= {"encrypt_type": "aes", "msg_signature": sha1_signature(keys.token, ts, nonce, sealed)}
    return query, render_message({"ToUserName": message.get("ToUserName", ""), "Encrypt": sealed}, fmt)


# JSON and XML ------------------------------------------------------------------------------

def parse_message(body: bytes) -> dict[str, Any]:
    """A push body, JSON (an object) or XML (``<xml>`` with one level of fields), as a dict;
    MalformedPush otherwise. XML never carries a DOCTYPE from WeChat: one is refused before
    parsing (no entity of any kind is expanded)."""
    text = body.decode("utf-8", errors="strict") if body else ""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except ValueError as exc:
            raise MalformedPush("the body is not valid JSON") from exc
        if not isinstance(value, dict):
            raise MalformedPush("the body is not a JSON object")
        return value
    if stripped.startswith("<") and "<!DOCTYPE" not in stripped.upper() and "<!ENTITY" not in stripped.upper():
        try:
            root = ElementTree.fromstring(stripped)  # noqa: S314 (no DOCTYPE, hence no entity, reaches the parser)
        except ElementTree.ParseError as exc:
            raise MalformedPush("the body is not valid XML") from exc
        if root.tag == "xml":
            return {child.tag: _xml_value(child.text or "") for child in root}
    raise MalformedPush("the body is neither a JSON object nor WeChat's <xml>")


def _xml_value(text: str) -> Any:
    return int(text) if text.isdigit() and len(text) < 21 else text


def render_message(message: dict[str, Any], fmt: str) -> bytes:
    """A message as WeChat writes it: compact JSON, or ``<xml>`` with CDATA for text fields."""
    if fmt == "json":
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    parts = []
    for name, value in message.items():
        text = str(value) if isinstance(value, int) else "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"
        parts.append(f"<{name}>{text}</{name}>")
    return ("<xml>" + "".join(parts) + "</xml>").encode()
