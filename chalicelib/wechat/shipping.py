"""WeChat's shipping information rule (发货信息管理): a mini-program taking WeChat Pay reports each
shipment, or its funds can be held.

``POST https://api.weixin.qq.com/wxa/sec/order/upload_shipping_info?access_token=...`` with

    {"order_key": {"order_number_type": 1, "mchid": "<商户号>", "out_trade_no": "<our order id>"},
     "logistics_type": 1,            # 1 express (实体物流), 2 same-city, 3 virtual, 4 pick-up
     "delivery_mode": 1,             # 1 UNIFIED_DELIVERY (one parcel), 2 SPLIT_DELIVERY
     "shipping_list": [{"tracking_no": "...", "express_company": "<delivery id>",
                        "item_desc": "面膜*2", "contact": {"receiver_contact": "138****0000"}}],
     "upload_time": "2026-12-06T13:29:35.120+08:00",   # RFC 3339
     "payer": {"openid": "<the payer's openid>"}}

answered ``{"errcode": 0, "errmsg": "ok"}`` or an errcode. We key the order by merchant id and
``out_trade_no`` (type 1: our order id, known before the payment notification gives the
``transaction_id``); ``express_company`` is a delivery id of ``get_delivery_list``
(``domain.fulfilment.CARRIERS``); ``contact`` is required for SF and sent whenever the address
has a phone; ``item_desc`` ≤ 120 characters; ``shipping_list`` 1 entry in unified mode.

What an errcode means here (``verdict``): 0 accepted; the payment not yet in WeChat's system
(10060001: WeChat asks to wait a minute), busy (-1) or its system errors (10060012, 10060019)
are tried again; an already shipped payment (10060002, 10060003) counts as reported (a retry of
a report WeChat took); anything else (47001 data format error, 10060004 a payment that cannot be
shipped, 10060005–10060009 and 10060024–10060026 field errors, 268485216 upload_time) is
refused: the same body would be refused again. 40001/42001/40014: a fresh token, once.
docs/orders.md "The shipping information rule".
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.fulfilment import CONTACT_REQUIRED, Shipment, Verdict
from chalicelib.wechat.token import TOKEN_INVALID, AccessToken

UPLOAD_PATH = "/wxa/sec/order/upload_shipping_info"
EXPRESS = 1  # logistics_type: 实体物流配送
UNIFIED_DELIVERY = 1
MAX_ITEM_DESC = 120

RETRY_CODES = frozenset({-1, 10060001, 10060012, 10060019})
DONE_CODES = frozenset({10060002, 10060003})
# The errcodes the simulator answers, and their messages (WeChat's own).
ERRMSG = {
    0: "ok",
    -1: "system error",
    47001: "data format error",
    10060001: "支付单不存在",
    10060002: "支付单已完成发货，无法继续发货",
    10060003: "支付单已使用重新发货机会",
    10060004: "支付单处于不可发货的状态",
    10060005: "物流类型有误",
    10060008: "商品描述字段不能为空",
    10060009: "商品描述字段长度不能超过120",
    10060025: "物流公司编码太长",
    10060026: "物流单号太长",
    268485216: "上传时间非法，请按照 RFC 3339 格式填写",
    40001: "invalid credential, access_token is invalid or not latest",
}


class ShippingReporter(Protocol):
    def upload(self, shipment: Shipment, now: datetime) -> tuple[Verdict, str | None]:
        """Report one shipment: WeChat's verdict and, unless accepted, what it said. Raises
        Unavailable when WeChat could not be reached (the caller tries again later)."""


def upload_time(now: datetime) -> str:
    """RFC 3339 in Shanghai time with milliseconds, as WeChat's example: 2022-12-15T13:29:35.120+08:00."""
    return now.astimezone(SHANGHAI).isoformat(timespec="milliseconds")


def upload_body(shipment: Shipment, mch_id: str, now: datetime) -> dict[str, Any]:
    """The request body of one unified express shipment."""
    entry: dict[str, Any] = {"tracking_no": shipment.tracking_no, "express_company": shipment.delivery_id,
                             "item_desc": shipment.item_desc[:MAX_ITEM_DESC]}
    if shipment.receiver_contact:
        entry["contact"] = {"receiver_contact": shipment.receiver_contact}
    return {"order_key": {"order_number_type": 1, "mchid": mch_id, "out_trade_no": shipment.out_trade_no},
            "logistics_type": EXPRESS, "delivery_mode": UNIFIED_DELIVERY, "shipping_list": [entry],
            "upload_time": upload_time(now), "payer": {"openid": shipment.openid}}


def verdict(answer: dict[str, Any]) -> tuple[Verdict, str | None]:
    errcode = answer.get("errcode", 0)
    if not isinstance(errcode, int):
        return Verdict.RETRY, f"unreadable errcode {errcode!r}"
    if errcode == 0 or errcode in DONE_CODES:
        return Verdict.ACCEPTED, None
    said = f"{errcode} {answer.get('errmsg', '')}".strip()[:200]
    return (Verdict.RETRY if errcode in RETRY_CODES else Verdict.REFUSED), said


def missing_contact(shipment: Shipment) -> bool:
    """WeChat requires a contact for these carriers: a shipment without one is refused as is."""
    return shipment.delivery_id in CONTACT_REQUIRED and not shipment.receiver_contact


class RealShippingReporter:
    """``upload_shipping_info`` with the process's shared access token."""

    def __init__(self, token: AccessToken, mch_id: str) -> None:
        self._token, self._mch_id = token, mch_id

    def upload(self, shipment: Shipment, now: datetime) -> tuple[Verdict, str | None]:
        deadline = time.monotonic() + 2 * self._token.budget.call_seconds()  # a token and the upload
        body = upload_body(shipment, self._mch_id, now)
        for attempt in range(2):
            token = self._token.get(refresh=attempt > 0, deadline=deadline)
            answer = self._token.post(f"{UPLOAD_PATH}?access_token={token}", body, "WeChat shipping report", deadline)
            if answer.get("errcode") in TOKEN_INVALID and attempt == 0:
                continue
            return verdict(answer)
        raise Unavailable("WeChat refused a fresh access token; retry", wechat_errcode=answer.get("errcode"))
