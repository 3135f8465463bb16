"""Results of WeChat Pay API v3 calls and notifications, parsed strictly (amounts are whole fen)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.wechat.pay_crypto import InvalidSignature


@dataclass(frozen=True)
class Notification:
    """A verified notification; ``resource`` is the decrypted JSON object."""

    id: str
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
    resource: dict[str, Any]
    create_time: str = ""


def text_field(data: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    value = data.get(key)
    if isinstance(value, str) and value:
        return value
    if required or value is not None:
        raise ValueError(f"{key} is missing or not a string")
    return None


def _fen(data: Mapping[str, Any], key: str, required: bool = True) -> int | None:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if required or value is not None:
        raise ValueError(f"{key} is missing or not a whole number of fen")
    return None


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    raw = text_field(data, key, required=False)
    if raw is None:
        return None
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        raise ValueError(f"{key} has no time zone")
    return parsed.astimezone(UTC)


def _object(data: Mapping[str, Any], key: str, required: bool = True) -> Mapping[str, Any]:
    value = data.get(key)
    if isinstance(value, Mapping):
        return value
    if required or value is not None:
        raise ValueError(f"{key} is not an object")
    return {}


def _parsed(cls: Any, resource: Mapping[str, Any]) -> Any:
    try:
        return cls.parse(resource)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidSignature(f"notification resource is malformed: {exc}") from exc


@dataclass(frozen=True)
class PaymentResult:
    """A transaction (payment notification resource, or the answer of a query)."""

    out_trade_no: str
    trade_state: str  # SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR
    total_fen: int
    currency: str
    mch_id: str
    app_id: str | None
    transaction_id: str | None = None
    payer_total_fen: int | None = None
    payer_openid: str | None = None
    success_time: datetime | None = None  # UTC

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> PaymentResult:
        """Raises ValueError for a malformed transaction."""
        amount = _object(data, "amount")
        return cls(out_trade_no=text_field(data, "out_trade_no") or "", trade_state=text_field(data, "trade_state") or "",
                   total_fen=_fen(amount, "total") or 0, currency=text_field(amount, "currency", False) or "CNY",
                   mch_id=text_field(data, "mchid") or "", app_id=text_field(data, "appid", False),
                   transaction_id=text_field(data, "transaction_id", False), payer_total_fen=_fen(amount, "payer_total", False),
                   payer_openid=text_field(_object(data, "payer", False), "openid", False),
                   success_time=_time(data, "success_time"))

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> PaymentResult:
        """Parse a verified notification's resource; InvalidSignature if it is malformed."""
        return _parsed(cls, resource)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RefundResult:
    """The resource of a refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED)."""

    out_trade_no: str
    out_refund_no: str
    refund_id: str
    refund_status: str  # SUCCESS, CLOSED, ABNORMAL
    total_fen: int
    refund_fen: int
    mch_id: str
    transaction_id: str | None = None
    payer_total_fen: int | None = None
    payer_refund_fen: int | None = None
    success_time: datetime | None = None  # UTC
    user_received_account: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> RefundResult:
        amount = _object(data, "amount")
        return cls(out_trade_no=text_field(data, "out_trade_no") or "", out_refund_no=text_field(data, "out_refund_no") or "",
                   refund_id=text_field(data, "refund_id") or "", refund_status=text_field(data, "refund_status") or "",
                   total_fen=_fen(amount, "total") or 0, refund_fen=_fen(amount, "refund") or 0,
                   mch_id=text_field(data, "mchid") or "", transaction_id=text_field(data, "transaction_id", False),
                   payer_total_fen=_fen(amount, "payer_total", False), payer_refund_fen=_fen(amount, "payer_refund", False),
                   success_time=_time(data, "success_time"),
                   user_received_account=text_field(data, "user_received_account", False))

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> RefundResult:
        return _parsed(cls, resource)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RefundOutcome:
    status: str  # SUCCESS, PROCESSING, ABNORMAL, CLOSED: the final word comes by notification or query
    refund_id: str
