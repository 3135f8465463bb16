"""WeChat Pay API v3 cryptography: RSA-SHA256 signatures and AEAD_AES_256_GCM resources.

Pure functions over PEM strings and bytes, used by the real client, the notify handler and the
simulator alike. ``cryptography`` is imported inside the functions, so importing this module (and
``pay``) stays cheap; parsed keys are cached by their PEM text.

Wire formats (WeChat Pay v3 "签名生成" / "签名验证" / "回调报文解密"):
- request:   ``METHOD\\nPATH?QUERY\\ntimestamp\\nnonce\\nbody\\n`` signed with the merchant key
- response and notification: ``timestamp\\nnonce\\nbody\\n`` signed with the platform key
- ``wx.requestPayment``: ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` signed with the merchant key
- resource:  AES-256-GCM, key = the APIv3 key's UTF-8 bytes, nonce and associated data = their
  UTF-8 bytes, ``ciphertext`` = base64(encrypted || 16-byte tag)
"""
from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import Kind, error

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

InvalidSignature = error("INVALID_SIGNATURE", Kind.UNAUTHENTICATED,
                         "A WeChat Pay message whose signature, timestamp or encryption does not verify.")

AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
AEAD_ALGORITHM = "AEAD_AES_256_GCM"
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


def new_nonce(length: int = 32) -> str:
    """A random string for ``nonce_str`` / ``nonceStr`` (at most 32 characters) or a GCM nonce (12)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def _pem(text: str) -> bytes:
    # Settings often carry PEM with literal "\n" escapes (one-line environment variables).
    return text.replace("\\n", "\n").strip().encode("ascii")


@lru_cache(maxsize=16)
def _private_key(pem: str) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(_pem(pem), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("WeChat Pay keys are RSA keys")
    return key


@lru_cache(maxsize=16)
def _public_key(pem: str) -> RSAPublicKey:
    """A ``PUBLIC KEY`` PEM (WeChat Pay public key) or a ``CERTIFICATE`` PEM (platform certificate)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from cryptography.x509 import load_pem_x509_certificate

    raw = _pem(pem)
    key = load_pem_x509_certificate(raw).public_key() if b"CERTIFICATE" in raw else load_pem_public_key(raw)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("WeChat Pay keys are RSA keys")
    return key


def public_key_of(private_key_pem: str) -> str:
    """The ``PUBLIC KEY`` PEM that verifies what this private key signs."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _private_key(private_key_pem).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def keys_match(private_key_pem: str, public_key_pem: str) -> bool:
    """Whether the public key (or certificate) PEM belongs to the private key."""
    return _private_key(private_key_pem).public_key().public_numbers() == _public_key(public_key_pem).public_numbers()


def generate_rsa_key() -> str:
    """A fresh RSA-2048 private key as PKCS#8 PEM (what the merchant platform hands out)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")


def sign_message(private_key_pem: str, message: bytes) -> str:
    """Base64 of RSASSA-PKCS1-v1_5 with SHA-256 over ``message``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(_private_key(private_key_pem).sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_signature(public_key_pem: str, message: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid RSA-SHA256 signature of ``message``; never raises for bad input."""
    from cryptography.exceptions import InvalidSignature as BadSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        signature = base64.b64decode(signature_b64, validate=True)
        _public_key(public_key_pem).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (BadSignature, binascii.Error, ValueError):
        return False
    return True


def lines(*parts: str | bytes) -> bytes:
    """The v3 signing format: every part followed by ``\\n``, the last one included."""
    return b"".join((part.encode("utf-8") if isinstance(part, str) else part) + b"\n" for part in parts)


def build_authorization(method: str, url_path: str, body: bytes, *, mch_id: str, serial_no: str,
                        private_key_pem: str, timestamp: int, nonce: str) -> str:
    """The ``Authorization`` header of a v3 request; ``url_path`` includes the query string."""
    signature = sign_message(private_key_pem, lines(method.upper(), url_path, str(timestamp), nonce, body))
    return (f'{AUTH_SCHEMA} mchid="{mch_id}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{serial_no}"')


def check_signed_message(headers: Mapping[str, str], body: bytes, *, now_ts: float, public_key_pem: str,
                         key_id: str, max_skew_seconds: int) -> None:
    """Verify the ``Wechatpay-*`` headers of a response or notification over the raw ``body``.

    Refuses (InvalidSignature) a missing header, a serial other than ``key_id``, a timestamp more
    than ``max_skew_seconds`` away from ``now_ts`` either way, and a signature that does not verify.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        serial, signature = lowered["wechatpay-serial"].strip(), lowered["wechatpay-signature"].strip()
        timestamp, nonce = lowered["wechatpay-timestamp"].strip(), lowered["wechatpay-nonce"].strip()
    except KeyError as exc:
        raise InvalidSignature(f"missing header {exc.args[0]}") from None
    if not (serial and signature and timestamp and nonce):
        raise InvalidSignature("empty Wechatpay-* header")
    if serial != key_id:
        raise InvalidSignature("signed with a key we do not hold", wechatpay_serial=serial[:64])
    if not timestamp.isdigit() or abs(int(timestamp) - now_ts) > max_skew_seconds:
        raise InvalidSignature("timestamp outside the allowed window")
    if not verify_signature(public_key_pem, lines(timestamp, nonce, body), signature):
        raise InvalidSignature("signature does not verify")


def sign_headers(body: bytes, *, private_key_pem: str, key_id: str, timestamp: int, nonce: str) -> dict[str, str]:
    """The ``Wechatpay-*`` headers WeChat Pay puts on a response or notification (simulator, tests)."""
    return {
        "Wechatpay-Serial": key_id,
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign_message(private_key_pem, lines(str(timestamp), nonce, body)),
    }


# AEAD_AES_256_GCM


def aes_gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aes_gcm_open(key: bytes, nonce: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """Decrypt ``ciphertext || tag``; raises InvalidSignature if anything was altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(nonce, sealed, associated_data)
    except (InvalidTag, ValueError, OverflowError) as exc:
        raise InvalidSignature("resource does not decrypt") from exc


def _apiv3_key(apiv3_key: str) -> bytes:
    key = apiv3_key.encode("utf-8")
    if len(key) != 32:
        raise ValueError("the APIv3 key is 32 bytes")
    return key


def encrypt_resource(apiv3_key: str, plaintext: bytes, *, associated_data: str, nonce: str,
                     original_type: str) -> dict[str, str]:
    """A notification ``resource`` object as WeChat Pay sends it."""
    sealed = aes_gcm_seal(_apiv3_key(apiv3_key), nonce.encode(), plaintext, associated_data.encode())
    return {"original_type": original_type, "algorithm": AEAD_ALGORITHM, "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": associated_data, "nonce": nonce}


def decrypt_resource(apiv3_key: str, resource: Any) -> bytes:
    """The plaintext of a notification ``resource``; raises InvalidSignature for anything malformed."""
    if not isinstance(resource, Mapping) or resource.get("algorithm") != AEAD_ALGORITHM:
        raise InvalidSignature(f"resource is not {AEAD_ALGORITHM}")
    ciphertext, nonce = resource.get("ciphertext"), resource.get("nonce")
    associated_data = resource.get("associated_data") or ""
    if not (isinstance(ciphertext, str) and isinstance(nonce, str) and isinstance(associated_data, str)):
        raise InvalidSignature("resource lacks ciphertext or nonce")
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
    except binascii.Error as exc:
        raise InvalidSignature("resource ciphertext is not base64") from exc
    return aes_gcm_open(_apiv3_key(apiv3_key), nonce.encode(), sealed, associated_data.encode())


# Sensitive fields (敏感信息加密), e.g. the payee's real name in a merchant transfer


def encrypt_sensitive(public_key_pem: str, plaintext: str) -> str:
    """Base64 of RSAES-OAEP (SHA-1, MGF1 with SHA-1) of the UTF-8 text under the WeChat Pay public key.

    What WeChat Pay calls ``RSA/ECB/OAEPWithSHA-1AndMGF1Padding``; the request that carries it
    names the key in its ``Wechatpay-Serial`` header. Each call gives another ciphertext.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    # WeChat Pay v3 seals sensitive fields with RSA-OAEP over SHA-1: the protocol, not our choice.
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    return base64.b64encode(_public_key(public_key_pem).encrypt(plaintext.encode("utf-8"), oaep)).decode()


def decrypt_sensitive(private_key_pem: str, ciphertext_b64: str) -> str:
    """The text ``encrypt_sensitive`` sealed, with the matching private key (the fake WeChat Pay in
    tests; in production WeChat Pay decrypts). Raises ValueError if it does not decrypt."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    # WeChat Pay v3 seals sensitive fields with RSA-OAEP over SHA-1: the protocol, not our choice.
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    try:
        sealed = base64.b64decode(ciphertext_b64, validate=True)
        return _private_key(private_key_pem).decrypt(sealed, oaep).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the sensitive field does not decrypt") from exc
