"""Merchant-transfer bills (商家转账) as WeChat Pay reports them, parsed strictly (amounts in fen).

One ``TransferBill`` type serves the answers of create, query and cancel and the decrypted
resource of a ``MCHTRANSFER.BILL.FINISHED`` notification: each carries a subset of the fields,
the rest are None. docs/wechat-pay.md "Merchant transfer" has the state machine.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from chalicelib.wechat.pay_crypto import InvalidSignature
from chalicelib.wechat.pay_results import text_field


class TransferState(StrEnum):
    """The ``state`` of a transfer bill (商家转账 "单据状态").

    ACCEPTED and PROCESSING come before the user is asked (PROCESSING lingers while the merchant's
    balance is too low); WAIT_USER_CONFIRM hands ``package_info`` to ``wx.requestMerchantTransfer``;
    TRANSFERING follows the user's confirmation; CANCELING follows a cancel request.
    """

    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    WAIT_USER_CONFIRM = "WAIT_USER_CONFIRM"
    TRANSFERING = "TRANSFERING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    CANCELING = "CANCELING"
    CANCELLED = "CANCELLED"

    @property
    def final(self) -> bool:
        """No state follows: the money reached the user (SUCCESS) or never will (FAIL, CANCELLED)."""
        return self in (TransferState.SUCCESS, TransferState.FAIL, TransferState.CANCELLED)

    @property
    def returned(self) -> bool:
        """The money stayed with the merchant: the withdrawal's amount goes back to the wallet."""
        return self in (TransferState.FAIL, TransferState.CANCELLED)


def _state(data: Mapping[str, Any]) -> TransferState:
    raw = text_field(data, "state") or ""
    try:
        return TransferState(raw)
    except ValueError:
        raise ValueError(f"unknown transfer state {raw[:32]!r}") from None


def _fen(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{key} is not a whole number of fen")


def _moment(data: Mapping[str, Any], *keys: str) -> datetime | None:
    """The first of ``keys`` present, in UTC (WeChat writes RFC 3339 in Beijing time)."""
    for key in keys:
        raw = text_field(data, key, required=False)
        if raw is not None:
            parsed = datetime.fromisoformat(raw)
            if parsed.tzinfo is None:
                raise ValueError(f"{key} has no time zone")
            return parsed.astimezone(UTC)
    return None


@dataclass(frozen=True)
class TransferBill:
    """One bill, identified by our ``out_bill_no``; ``transfer_bill_no`` is WeChat's number.

    ``amount_fen`` is what WeChat reports (None in the answers of create and cancel, which do not
    say); ``package_info`` is present while the bill waits for the user (WAIT_USER_CONFIRM);
    ``fail_reason`` is WeChat's code for FAIL (e.g. ``PAYEE_ACCOUNT_ABNORMAL``); ``updated_at``
    is the last state change (or the creation time when that is all the answer carries).
    """

    out_bill_no: str
    transfer_bill_no: str | None
    state: TransferState
    amount_fen: int | None = None
    package_info: str | None = None
    fail_reason: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TransferBill:
        """A bill from an answer or a resource; ValueError (or TypeError) if it is malformed."""
        return cls(out_bill_no=text_field(data, "out_bill_no") or "",
                   transfer_bill_no=text_field(data, "transfer_bill_no", required=False),
                   state=_state(data), amount_fen=_fen(data, "transfer_amount"),
                   package_info=text_field(data, "package_info", required=False),
                   fail_reason=text_field(data, "fail_reason", required=False),
                   updated_at=_moment(data, "update_time", "create_time"))

    @classmethod
    def from_resource(cls, resource: Mapping[str, Any]) -> TransferBill:
        """Parse a verified notification's resource; InvalidSignature if it is malformed."""
        try:
            return cls.parse(resource)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidSignature(f"transfer notification resource is malformed: {exc}") from exc
