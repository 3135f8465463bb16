"""WeChat Pay merchant transfer (商家转账, the 2025 "user confirmation" mode): the port, the real
client, and the notification verifier. The simulator is in ``transfer_simulator``.

A withdrawal is paid by one bill whose number, ``out_bill_no``, the caller derives from the
withdrawal and never changes: WeChat Pay answers a create with a number it knows with the bill it
already has, so a retry after ``Unavailable`` (or after ``TRANSFER_REJECTED`` NOT_ENOUGH, once the
merchant balance is topped up) can never pay twice. A new number for the same withdrawal could.
Requests are signed and answers verified exactly as for payments (``pay_crypto``); the payee's
real name travels on every bill (DOMAIN.md §9: WeChat compares it with the account's real name;
WeChat itself requires it only from 2,000 yuan), RSA-OAEP encrypted under the WeChat Pay public
key (``bill_request``, shared with the simulator). docs/wechat-pay.md "Merchant transfer" has
the decisions and the sources.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import urllib3

from chalicelib.domain.errors import Kind, Unavailable, error
from chalicelib.wechat.http import HttpBudget
from chalicelib.wechat.pay import PayConfig, verify_notification
from chalicelib.wechat.pay_api import PayApi
from chalicelib.wechat.pay_crypto import InvalidSignature, encrypt_sensitive
from chalicelib.wechat.transfer_results import TransferBill, TransferState

__all__ = ["BILLS_PATH", "NAME_NOT_CORRECT", "NAME_REQUIRED_FROM_FEN", "TRANSFER_EVENT", "RealTransferClient",
           "TransferBill", "TransferClient", "TransferRejected", "TransferScene", "TransferState", "bill_request",
           "check_out_bill_no", "verify_transfer_notification"]

TransferRejected = error("TRANSFER_REJECTED", Kind.CONFLICT,
                         "WeChat Pay refused the merchant transfer (details.wechat_code says why, e.g. NOT_ENOUGH).")

BILLS_PATH = "/v3/fund-app/mch-transfer/transfer-bills"
TRANSFER_EVENT = "MCHTRANSFER.BILL.FINISHED"
NAME_REQUIRED_FROM_FEN = 200_000  # 2,000 yuan: from here on WeChat Pay requires user_name (we always send it)
NAME_NOT_CORRECT = "NAME_NOT_CORRECT"  # fail_reason: 收款人姓名校验不通过 (user_name is not the account's real name)
_OUT_BILL_NO = re.compile(r"[0-9A-Za-z]{1,32}")
_TEXT_LIMIT = 32  # transfer_remark and info_content: at most 32 characters


def check_out_bill_no(out_bill_no: str) -> str:
    """WeChat Pay accepts 1–32 ASCII letters and digits only (no "-" or "_"); ValueError otherwise."""
    if not _OUT_BILL_NO.fullmatch(out_bill_no):
        raise ValueError(f"out_bill_no must be 1-32 letters and digits: {out_bill_no[:40]!r}")
    return out_bill_no


@dataclass(frozen=True)
class _SceneReport:
    perception: str  # user_recv_perception shown to the user by default
    title_type: str  # info_type of the first report line (its content is a setting)
    detail_type: str  # info_type of the second report line (its content is the bill's remark)


# What each supported transfer scene must report (transfer_scene_report_infos), per WeChat Pay's
# scene pages: 1005 佣金报酬 → 岗位类型 + 报酬说明; 1000 现金营销 → 活动名称 + 奖励说明.
SCENE_REPORTS = {
    "1005": _SceneReport(perception="劳务报酬", title_type="岗位类型", detail_type="报酬说明"),
    "1000": _SceneReport(perception="现金奖励", title_type="活动名称", detail_type="奖励说明"),
}


@dataclass(frozen=True)
class TransferScene:
    """The merchant's transfer scene and what every bill declares with it (settings)."""

    scene_id: str = "1005"
    report_title: str = "推广员"  # 岗位类型 (1005) or 活动名称 (1000)
    notify_url: str = ""  # empty: no notification, the final state is polled
    perception: str = ""  # empty: the scene's default (劳务报酬 for 1005)

    def __post_init__(self) -> None:
        if self.scene_id not in SCENE_REPORTS:
            raise ValueError(f"transfer scene {self.scene_id!r} is not supported (one of {sorted(SCENE_REPORTS)})")
        if not 1 <= len(self.report_title) <= _TEXT_LIMIT:
            raise ValueError("the transfer report title is 1-32 characters")

    def fields(self, remark: str) -> dict[str, Any]:
        """The scene's part of a create request."""
        report = SCENE_REPORTS[self.scene_id]
        fields: dict[str, Any] = {
            "transfer_scene_id": self.scene_id, "user_recv_perception": self.perception or report.perception,
            "transfer_scene_report_infos": [{"info_type": report.title_type, "info_content": self.report_title},
                                            {"info_type": report.detail_type, "info_content": remark}]}
        if self.notify_url:
            fields["notify_url"] = self.notify_url
        return fields


def bill_request(config: PayConfig, scene: TransferScene, out_bill_no: str, openid: str, amount_fen: int,
                 remark: str, user_name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and extra headers of a create request. Every bill carries ``user_name``, the
    payee's verified real name, RSA-OAEP encrypted under the WeChat Pay public key, with that
    key's id in ``Wechatpay-Serial`` (WeChat compares it with the account's real name and fails
    the bill, ``NAME_NOT_CORRECT``, when they differ). ValueError for a bill number WeChat would
    refuse or a blank name: programming errors, nothing is sent."""
    if not user_name.strip():
        raise ValueError("every transfer bill carries the payee's real name (user_name)")
    remark = remark[:_TEXT_LIMIT]
    body: dict[str, Any] = {"appid": config.app_id, "out_bill_no": check_out_bill_no(out_bill_no), "openid": openid,
                            "user_name": encrypt_sensitive(config.platform_public_key_pem, user_name),
                            "transfer_amount": amount_fen, "transfer_remark": remark, **scene.fields(remark)}
    return body, {"Wechatpay-Serial": config.platform_key_id}


class TransferClient(Protocol):
    """Pays a user's WeChat balance; every call is idempotent by ``out_bill_no``."""

    def create_bill(self, out_bill_no: str, openid: str, amount_fen: int, remark: str,
                    user_name: str) -> TransferBill:
        """Create the bill, or get the one this number already names. ``user_name``: the payee's
        verified real name in clear (the client encrypts it), on every bill (``bill_request``)."""

    def query_bill(self, out_bill_no: str) -> TransferBill | None:
        """The bill, or None if WeChat Pay has none with this number."""

    def cancel_bill(self, out_bill_no: str) -> TransferBill:
        """Ask to cancel a bill the user has not confirmed (CANCELING, then CANCELLED)."""


def verify_transfer_notification(headers: Mapping[str, str], raw_body: bytes, now: datetime,
                                 config: PayConfig) -> TransferBill:
    """Verify a ``MCHTRANSFER.BILL.FINISHED`` notification (signature over the RAW body, freshness,
    AES-256-GCM resource: the payment notification's checks) and return its bill.

    InvalidSignature for anything forged, stale or malformed, for another event type, and for a
    bill of another merchant. The bill's state is final (SUCCESS, FAIL or CANCELLED); the caller
    still matches the bill with its own withdrawal (number and amount).
    """
    notification = verify_notification(headers, raw_body, now, config)
    if notification.event_type != TRANSFER_EVENT:
        raise InvalidSignature(f"not a transfer notification: {notification.event_type[:40]!r}")
    mch_id = notification.resource.get("mchid")
    if mch_id is not None and mch_id != config.mch_id:
        raise InvalidSignature("transfer notification for another merchant")
    return TransferBill.from_resource(notification.resource)


class RealTransferClient:
    """Calls ``api.mch.weixin.qq.com``: signs every request, verifies every 2xx answer.

    Unreachable, timeout, 5xx and 429 → ``Unavailable`` (retry the same call); a 2xx that does not
    verify → ``Unavailable(reason="unverified_response")``; any other 4xx → ``TransferRejected``
    with ``wechat_code`` and ``wechat_status``; the query of an unknown number → None.
    """

    def __init__(self, config: PayConfig, scene: TransferScene, *, clock: Callable[[], datetime] | None = None,
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None) -> None:
        self.config = config
        self.scene = scene
        self._call = PayApi(config, TransferRejected, clock=clock, budget=budget, http=http).call

    def create_bill(self, out_bill_no: str, openid: str, amount_fen: int, remark: str,
                    user_name: str) -> TransferBill:
        body, headers = bill_request(self.config, self.scene, out_bill_no, openid, amount_fen, remark, user_name)
        return self._bill(out_bill_no, self._call("POST", BILLS_PATH, body, headers))

    def query_bill(self, out_bill_no: str) -> TransferBill | None:
        try:
            answer = self._call("GET", _bill_path(out_bill_no), None)
        except TransferRejected as refused:
            if refused.details.get("wechat_code") == "NOT_FOUND":
                return None
            raise
        return self._bill(out_bill_no, answer)

    def cancel_bill(self, out_bill_no: str) -> TransferBill:
        return self._bill(out_bill_no, self._call("POST", _bill_path(out_bill_no) + "/cancel", None))

    def _bill(self, out_bill_no: str, answer: Any) -> TransferBill:
        """The answer as a bill; one that is unreadable or names another bill is Unavailable."""
        try:
            bill = TransferBill.parse(answer if isinstance(answer, dict) else {})
        except (ValueError, TypeError) as exc:
            raise Unavailable("WeChat Pay answered an unreadable transfer bill; retry") from exc
        if bill.out_bill_no != out_bill_no:
            raise Unavailable("WeChat Pay answered with another transfer bill; retry")
        return bill


def _bill_path(out_bill_no: str) -> str:
    return f"{BILLS_PATH}/out-bill-no/{quote(check_out_bill_no(out_bill_no), safe='')}"
