"""WeChat Pay API v3 for a mini-program merchant (直连商户, JSAPI): the port, the real client, and
the notification verifier. The simulator speaking the same protocol is in ``pay_simulator``.

Every call is idempotent by the merchant's own numbers (``out_trade_no``, ``out_refund_no``): the
client never invents one, so a caller that gets ``Unavailable`` retries the same call with the
same numbers. ``docs/wechat-pay.md`` has the decisions.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Protocol
from urllib.parse import quote

import urllib3

from chalicelib.domain.errors import Kind, Unavailable, error
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.pay_api import PayApi
from chalicelib.wechat.pay_config import PayConfig
from chalicelib.wechat.pay_crypto import (
    InvalidSignature,
    check_signed_message,
    decrypt_resource,
    lines,
    new_nonce,
    sign_message,
)
from chalicelib.wechat.pay_results import Notification, PaymentResult, RefundOutcome, RefundResult, text_field

__all__ = ["InvalidSignature", "Notification", "PayClient", "PayConfig", "PayRejected", "PaymentResult",
           "RealPayClient", "RefundOutcome", "RefundResult", "request_payment_params", "verify_notification"]

PayRejected = error("PAY_REJECTED", Kind.CONFLICT, "WeChat Pay refused the request (details.wechat_code says why).")

_BEIJING = timezone(timedelta(hours=8))


def verify_notification(headers: Mapping[str, str], raw_body: bytes, now: datetime, config: PayConfig) -> Notification:
    """Verify a notification over its RAW body and decrypt its resource; anything wrong is InvalidSignature.

    ``headers`` may use any case. Nothing in the body is trusted before the signature verifies.
    """
    check_signed_message(headers, raw_body, now_ts=now.timestamp(), public_key_pem=config.platform_public_key_pem,
                         key_id=config.platform_key_id, max_skew_seconds=config.max_skew_seconds)
    try:
        envelope = json.loads(raw_body)
        if not isinstance(envelope, dict):
            raise ValueError("not an object")
        notification_id, event_type = text_field(envelope, "id"), text_field(envelope, "event_type")
        create_time = text_field(envelope, "create_time", required=False) or ""
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidSignature(f"notification body is malformed: {exc}") from exc
    try:
        resource = json.loads(decrypt_resource(config.apiv3_key, envelope.get("resource")))
    except ValueError as exc:
        raise InvalidSignature("notification resource is not JSON") from exc
    if not isinstance(resource, dict):
        raise InvalidSignature("notification resource is not an object")
    return Notification(id=notification_id or "", event_type=event_type or "", resource=resource, create_time=create_time)


def request_payment_params(config: PayConfig, prepay_id: str, now: datetime, nonce: str) -> dict[str, str]:
    """The object the mini-program passes to ``wx.requestPayment`` (exactly these six keys)."""
    timestamp, package = str(int(now.timestamp())), f"prepay_id={prepay_id}"
    pay_sign = sign_message(config.merchant_private_key_pem, lines(config.app_id, timestamp, nonce, package))
    return {"appId": config.app_id, "timeStamp": timestamp, "nonceStr": nonce, "package": package,
            "signType": "RSA", "paySign": pay_sign}


def _rfc3339(moment: datetime) -> str:
    """Beijing time to the second, as WeChat Pay writes it: ``2026-11-10T12:30:00+08:00``."""
    if moment.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return moment.astimezone(_BEIJING).replace(microsecond=0).isoformat()


class PayClient(Protocol):
    config: PayConfig  # what the notify handler verifies with, and the ids a notification must carry

    def prepay(self, out_trade_no: str, description: str, amount_fen: int, payer_openid: str,
               expires_at: datetime) -> str:
        """The prepay_id; the same arguments again give a usable prepay_id for the same order."""

    def payment_params(self, prepay_id: str) -> dict[str, str]:
        """The signed ``wx.requestPayment`` parameters."""

    def refund(self, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundOutcome:
        """Ask for a refund; the same ``out_refund_no`` again is the same refund."""

    def query(self, out_trade_no: str) -> PaymentResult | None:
        """The transaction, or None if WeChat Pay has no such order."""

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order; closing one that is closed or unknown is not an error."""


class RealPayClient:
    """Calls ``api.mch.weixin.qq.com``: signs every request, verifies every 2xx answer."""

    def __init__(self, config: PayConfig, *, clock: Callable[[], datetime] | None = None,
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None) -> None:
        self.config = config
        self._api = PayApi(config, PayRejected, clock=clock, budget=budget, http=http)
        self._clock = self._api.clock
        self._call = self._api.call

    def prepay(self, out_trade_no: str, description: str, amount_fen: int, payer_openid: str,
               expires_at: datetime) -> str:
        c = self.config
        body = {"appid": c.app_id, "mchid": c.mch_id, "description": description, "out_trade_no": out_trade_no,
                "time_expire": _rfc3339(expires_at), "notify_url": c.notify_url,
                "amount": {"total": amount_fen, "currency": "CNY"}, "payer": {"openid": payer_openid}}
        answer = self._call("POST", "/v3/pay/transactions/jsapi", body)
        prepay_id = answer.get("prepay_id") if isinstance(answer, dict) else None
        if not isinstance(prepay_id, str) or not prepay_id:
            raise Unavailable("WeChat Pay answered without a prepay_id; retry")
        return prepay_id

    def payment_params(self, prepay_id: str) -> dict[str, str]:
        return request_payment_params(self.config, prepay_id, self._clock(), new_nonce())

    def refund(self, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundOutcome:
        body = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "reason": reason,
                "notify_url": self.config.notify_url,
                "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"}}
        answer = self._call("POST", "/v3/refund/domestic/refunds", body)
        status = answer.get("status") if isinstance(answer, dict) else None
        refund_id = answer.get("refund_id") if isinstance(answer, dict) else None
        if not (isinstance(status, str) and isinstance(refund_id, str) and status and refund_id):
            raise Unavailable("WeChat Pay answered a refund without status or refund_id; retry")
        return RefundOutcome(status=status, refund_id=refund_id)

    def query(self, out_trade_no: str) -> PaymentResult | None:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}?mchid={quote(self.config.mch_id)}"
        try:
            answer = self._call("GET", path, None)
        except PayRejected as refused:
            if refused.details.get("wechat_code") == "ORDER_NOT_EXIST":
                return None
            raise
        try:
            return PaymentResult.parse(answer if isinstance(answer, dict) else {})
        except (ValueError, TypeError) as exc:
            raise Unavailable("WeChat Pay answered an unreadable transaction; retry") from exc

    def close(self, out_trade_no: str) -> None:
        try:
            self._call("POST", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close",
                       {"mchid": self.config.mch_id})
        except PayRejected as refused:
            if refused.details.get("wechat_code") not in ("ORDER_CLOSED", "ORDER_NOT_EXIST"):
                raise
